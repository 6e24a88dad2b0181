"""The offline AWS emulator: moto 5.2.5 (pinned exactly) with its gaps closed, one module per service.

``install()`` patches moto's internals once per process (each module of ``SERVICES`` in turn);
``emulator(region)`` is ``mock_aws`` with Step Functions execution on, Lambda without Docker, these
patches, and a clean shutdown (each service module's ``shutdown()``, if it has one); ``settle(timeout)``
waits for the asynchronous work the emulator started. Each module's docstring lists the gaps it closes;
``tests/localcloud/test_emulator_<module>.py`` tests them. This package is the lowest layer of the local
cloud: it imports nothing else of ``localcloud`` (``tests/localcloud/test_emulator_layering.py``).

- ``stepfunctions``: aws-sdk casing, unnamed StartExecution, SendTaskFailure's cause,
  StartSyncExecution, execution threads and parking, used or expired task tokens refused, interpreter
  costs, DynamoDB task errors named as AWS names them.
- ``awslambda``: in-process invoke, asynchronous invoke (retries, destinations), SQS mappings left to
  the pollers.
- ``events``: Step Functions and Lambda rule targets, delivered asynchronously; JSONPath cost.
- ``api_destinations``: API destination targets called over HTTP, asynchronously (body, API key,
  HTTP parameters, retries, dead-letter queue); moto's own empty-body call never happens.
- ``dynamodb``: every operation atomic; transaction cost; oversized keys refused by every operation;
  update expressions parsed and their clauses counted once per expression; their trees walked with
  per-class answers kept.
- ``sqs``: retention-check cost; every message operation atomic; receipt handles, deletes and the
  visible list cheaper per message; the backend send used by destinations and dead-letter queues.
- ``apigateway``: the REST APIs executed from moto's stored model (routes, the Cognito authorizer,
  mapping templates, AWS, Lambda-proxy and MOCK integrations) and served as a WSGI app; ``vtl``
  renders API Gateway's mapping templates with airspeed-ext.
- ``cognito``: identity-pool role attachments, token verification, test users.
- ``dynamodb_streams``: stream event source mappings polled as Lambda polls them (filters, batches,
  retries, on-failure destinations).
- ``iot``: the account's ATS endpoint answered; every publish recorded per topic and handed to listeners.
- ``clock``: the clock the workflows' timed waits count on: real, or virtual (``advance()``).
- ``sdk``: the request path all services share: one cache of botocore's parsed models for every session,
  moto's handler lookup kept per class, GC thresholds; while a mock is active, no signature computed,
  each client's user agent kept, moto's route for each URL kept, and backends looked up directly;
  request ids drawn in one call; each camelCase name converted to snake_case once; each request's
  WSGI environ built from kept URL parts.
- ``core``: the session's Lambda runtime, the asynchronous delivery worker and the parked-execution
  bookkeeping ``settle()`` reads.
- ``lambda_runtime``: loads and calls a handler as the Lambda Python runtime does, each invocation's
  environment isolated to its thread (``tests/localcloud/test_lambda_runtime.py``).
- ``sqs_pollers``: polls each SQS event source mapping as Lambda does, throttling included
  (``tests/localcloud/test_pollers.py``).
- ``logs``: what CloudWatch does with a function's output (log group, EMF metrics).

``settle()`` returns when the delivery queue is empty, no delivery is running, and every RUNNING
execution is parked (waiting for a task token, a heartbeat or a Wait state).
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from localcloud.emulator import (
    api_destinations,
    apigateway,
    awslambda,
    clock,
    cognito,
    core,
    dynamodb,
    dynamodb_streams,
    events,
    iot,
    sdk,
    sqs,
    stepfunctions,
)
from localcloud.emulator.awslambda import DEFAULT_ASYNC_RETRIES, function_config
from localcloud.emulator.core import run_once, runtime

__all__ = ["DEFAULT_ASYNC_RETRIES", "EMULATOR_CONFIG", "SERVICES", "emulator", "function_config", "install"]
__all__ += ["advance", "clock", "runtime", "settle"]

# Each module's install() runs in this order; one with a shutdown() has it called when emulator() exits.
SERVICES = (stepfunctions, awslambda, events, dynamodb, sqs, apigateway, cognito, dynamodb_streams, iot)
SERVICES += (api_destinations,)  # after `events`: it wraps the rule delivery that module patches

EMULATOR_CONFIG: dict[str, Any] = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
}


@run_once
def install() -> None:
    """Apply every service module's patches to moto's internals; safe to call any number of times."""
    sdk.install()
    for service in SERVICES:
        service.install()


@contextmanager
def emulator(region: str = "us-east-1", session_clock: clock.Clock | None = None) -> Iterator[None]:
    """``mock_aws`` with the fixes; on exit settle, stop every execution and join their threads.

    ``session_clock`` is what the workflows' timed waits count on: real time unless a
    ``clock.VirtualClock`` is given (then only ``advance()`` lets time pass)."""
    from moto import mock_aws

    install()
    saved_region = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = region
    try:
        with mock_aws(config=copy.deepcopy(EMULATOR_CONFIG)):
            core.new_session()
            clock.use(session_clock)
            try:
                yield
            finally:
                try:
                    settle()
                finally:
                    core.close_deliveries()
                    for service in SERVICES:
                        shutdown = getattr(service, "shutdown", None)
                        if shutdown is not None:
                            shutdown()
                    core.end_session()
                    clock.use(None)
    finally:
        if saved_region is None:
            os.environ.pop("AWS_DEFAULT_REGION", None)
        else:
            os.environ["AWS_DEFAULT_REGION"] = saved_region


def settle(timeout: float = 10.0) -> None:
    """Block until no delivery is queued or running and every running execution is parked.

    Deliveries cascade (event -> Lambda -> event ...), so quiet must hold on two checks in a row.
    """
    deadline = time.monotonic() + timeout
    quiet_checks = 0
    while quiet_checks < 2:
        if core.deliveries().idle() and all(core.is_quiescent(worker) for worker in core.workers()):
            quiet_checks += 1
        else:
            quiet_checks = 0
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"emulator did not settle in {timeout}s: deliveries idle={core.deliveries().idle()}, "
                    f"busy executions={stepfunctions.busy_executions()}"
                )
        time.sleep(0.002)


STUCK_WAKE_UPS = 1000  # a due wait still pending after this many wake-ups and settles is a bug


def advance(seconds: float, settle_timeout: float = 60.0, quiet: Callable[[], None] | None = None) -> None:
    """Let ``seconds`` of virtual time pass: the clock moves to each due deadline in turn and what fired
    settles (``quiet``, by default ``settle``) before the next, so timeouts fire in order and a wait begun
    by one counts from the moment it fired."""
    session_clock = clock.current()
    if not session_clock.virtual:
        raise RuntimeError("advance() needs an emulator session with a virtual clock")
    assert isinstance(session_clock, clock.VirtualClock)
    if seconds < 0:
        raise ValueError(f"time cannot go back ({seconds} s)")
    quiet = quiet or (lambda: settle(settle_timeout))
    target = session_clock.now() + seconds
    quiet()
    stuck = 0
    while (due := session_clock.next_deadline()) is not None and due <= target:
        stuck = stuck + 1 if due <= session_clock.now() else 0
        if stuck > STUCK_WAKE_UPS:
            raise RuntimeError(f"a wait due at {due} s of virtual time does not wake up")
        session_clock.move_to(max(due, session_clock.now()))
        quiet()
    session_clock.move_to(target)
    quiet()
