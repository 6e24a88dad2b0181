"""Benchmark: where a simulated day's CPU goes, split by part of the local cloud (a script, not a test).

    .venv/bin/python benchmarks/day_profile.py                 # a 100-order day, seed 1
    .venv/bin/python benchmarks/day_profile.py --orders 300

It runs ``simulate`` in this process with a timer around each part below and prints, for the day itself
(from the first customer to the last timeout, without the deploy and the checks), each part's CPU time
on its own thread minus the time of the parts it calls, so the rows add up to no more than the whole.
It also prints the AWS calls the day made, by operation, with their count and CPU time (the caller's
thread only, nested parts included), and by who made them: the functions' own code (through the SDK, as
on AWS) or the local cloud standing in for a call AWS makes inside itself (a workflow's service
integrations, API Gateway's integrations, the queue and stream pollers), which on AWS goes through no
SDK at all.

Why not a sampling profiler: the day runs on dozens of threads that take turns on the interpreter
lock, and a sampler has to guess which of them was running; on this project ``py-spy --gil`` put a
quarter of a 100-order day in the post-day checks, which a timer shows take 2 % of it. Thread CPU time
(``time.thread_time``) needs no guess (the timers add some CPU of their own to every part).
"""

from __future__ import annotations

import argparse
import collections
import functools
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
from machine import describe, host_speed  # noqa: E402

_own: collections.Counter[str] = collections.Counter()
_calls: collections.Counter[str] = collections.Counter()
_operations: collections.Counter[str] = collections.Counter()
_operation_cpu: collections.Counter[str] = collections.Counter()
_callers: collections.Counter[str] = collections.Counter()
_caller_cpu: collections.Counter[str] = collections.Counter()
# Who made an AWS call, by the first of these found in a file name on its stack (innermost first);
# ``_instrument`` puts the folder the Lambda runtime runs function code from in front.
CALLERS = [
    ("moto/stepfunctions/parser", "AWS-internal: workflows' service integrations"),
    ("localcloud/emulator/apigateway.py", "AWS-internal: API Gateway's integrations"),
    ("localcloud/emulator/sqs_pollers.py", "AWS-internal: queue pollers (event source mappings)"),
    ("localcloud/emulator/dynamodb_streams.py", "AWS-internal: stream pollers (event source mappings)"),
    ("localcloud/emulator/", "AWS-internal: the other emulated services (timeouts, deliveries)"),
    ("localcloud/simulator.py", "the day driver and its checks"),
]


def _caller() -> str:
    frame = sys._getframe(2)
    while frame is not None:
        file = frame.f_code.co_filename
        for marker, who in CALLERS:
            if marker in file:
                return who
        frame = frame.f_back
    return "anything else"


_stack = threading.local()
_day = threading.Event()  # set while the day runs: only then do the timers and counters count


def _timed(function: Callable[..., Any], part: str) -> Callable[..., Any]:
    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        if not _day.is_set():
            return function(*args, **kwargs)
        nested = _stack.__dict__.setdefault("nested", [])
        nested.append(0.0)
        started = time.thread_time()
        try:
            return function(*args, **kwargs)
        finally:
            spent = time.thread_time() - started
            _own[part] += spent - nested.pop()
            _calls[part] += 1
            if nested:
                nested[-1] += spent

    return timed


def _time_method(owner: Any, name: str, part: str) -> None:
    setattr(owner, name, _timed(getattr(owner, name), part))


def _instrument() -> None:
    from botocore import client, endpoint, parsers
    from moto.core import botocore_stubber, responses
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
    from werkzeug import serving

    from localcloud import apps, simulator
    from localcloud.emulator import apigateway, events, lambda_runtime, sqs_pollers

    CALLERS.insert(0, (str(lambda_runtime._DEFAULT_CACHE_DIR), "function code (through the SDK, as on AWS)"))
    _time_method(client.BaseClient, "_make_api_call", "botocore: the rest of a call")
    _time_method(client.BaseClient, "_convert_to_request_dict", "botocore: serialising the request")
    _time_method(client.BaseClient, "_resolve_endpoint_ruleset", "botocore: endpoint rules")
    _time_method(endpoint.Endpoint, "create_request", "botocore: preparing (and signing) the request")
    _time_method(parsers.ResponseParser, "parse", "botocore: parsing the answer")
    _time_method(botocore_stubber.BotocoreStubber, "__call__", "moto: building its request, routing")
    _time_method(responses.BaseResponse, "setup_class", "moto: reading the request, parsing arguments")
    _time_method(responses.BaseResponse, "_dispatch", "moto: the backend's work")
    _time_method(responses.BaseResponse, "serialized", "moto: serialising the answer")
    _time_method(lambda_runtime.LambdaRuntime, "invoke", "Lambda runtime (around the handlers)")
    _time_method(ExecutionWorker, "_get_evaluation_entrypoint", "Step Functions: a program per execution")
    _time_method(ExecutionWorker, "_execution_logic", "Step Functions: interpreting the states")
    _time_method(events, "_deliver_to_target", "EventBridge: delivering to targets")
    _time_method(sqs_pollers.MappingPoller, "_poll_once", "SQS pollers")
    _time_method(apigateway, "invoke", "API Gateway: templates, authorizers")
    _time_method(serving.WSGIRequestHandler, "handle", "HTTP server")
    _time_method(apps.AppClient, "call", "HTTP client (the apps)")
    for step in ("_arrive", "wait_for_room", "customer_step", "barista_step"):
        _time_method(simulator.DayDriver, step, "the day driver (the simulated people)")

    loaded = lambda_runtime.LambdaRuntime._handler

    def handler(self: Any, config: Any) -> Any:
        return _timed(loaded(self, config), "function code (handlers)")

    lambda_runtime.LambdaRuntime._handler = handler

    made = client.BaseClient._make_api_call

    def counted(self: Any, operation: str, params: Any) -> Any:
        if not _day.is_set():
            return made(self, operation, params)
        who = _caller()
        started = time.thread_time()
        try:
            return made(self, operation, params)
        finally:
            spent = time.thread_time() - started
            name = f"{self.meta.service_model.service_name}.{operation}"
            _operations[name] += 1
            _operation_cpu[name] += spent
            _callers[who] += 1
            _caller_cpu[who] += spent

    client.BaseClient._make_api_call = counted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(describe())
    print(host_speed())

    from localcloud import cli, simulator

    driven = simulator.DayDriver.run
    day: dict[str, float] = {}

    def run(self: Any) -> None:
        _instrument()
        _own.clear()
        _day.set()
        started, cpu = time.perf_counter(), time.process_time()
        try:
            driven(self)
        finally:
            day["wall"], day["cpu"] = time.perf_counter() - started, time.process_time() - cpu
            _day.clear()

    simulator.DayDriver.run = run
    cli.main(["simulate", "--stack", "local", f"--orders={args.orders}", f"--seed={args.seed}"])

    cpu = day["cpu"]
    print(f"\nThe day ({args.orders} orders): {day['wall']:.1f} s wall, {cpu:.1f} s CPU")
    for part, seconds in _own.most_common():
        print(f"  {seconds:6.2f} s {100 * seconds / cpu:5.1f} %  {_calls[part]:6d} calls  {part}")
    rest = cpu - sum(_own.values())
    print(f"  {rest:6.2f} s {100 * rest / cpu:5.1f} %  {'':6s}        everything else")
    print(f"\nAWS calls in the day, by operation ({sum(_operations.values())} in all):")
    for name, count in _operations.most_common(15):
        per_call = 1000 * _operation_cpu[name] / count
        print(f"  {count:6d}  {per_call:5.2f} ms each  {name}")
    print("\nAWS calls in the day, by who made them (CPU with nested parts, which overlap):")
    for who, count in _callers.most_common():
        print(f"  {count:6d} calls  {_caller_cpu[who]:6.2f} s  {who}")
    print(host_speed())


if __name__ == "__main__":
    main()
