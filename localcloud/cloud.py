"""The local cloud: the real program, deployed into the in-process emulator and driven like the live system.

    with LocalCloud.running(stack="local") as cloud:
        cloud.put_event("Validator.NewOrder", {"userId": "1", "orderId": "1"})
        cloud.settle()
        cloud.table("shop-data-orders").get_item(Key={"PK": "orders", "SK": "1"})

`running` enters `emulator.emulator()` for the stack's region, deploys (`localcloud.materialize`),
starts the SQS and DynamoDB-stream pollers (`localcloud.emulator.sqs_pollers`, `.dynamodb_streams`),
sends every function's output to its log group with EMF extracted into CloudWatch metrics
(`localcloud.emulator.logs`) and counts billable work (`localcloud.usage`). On exit the pollers stop
first, then the emulator settles, stops every execution and joins its threads.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from secrets import token_urlsafe
from typing import Any

import boto3

from localcloud import emulator, materialize, program, usage
from localcloud.emulator import apigateway, iot
from localcloud.emulator.dynamodb_streams import StreamPollers
from localcloud.emulator.logs import FunctionLogs
from localcloud.emulator.sqs_pollers import Pollers

FUNCTION = "aws:lambda/function:Function"
TABLE = "aws:dynamodb/table:Table"


class InvocationFailed(RuntimeError):
    """`LocalCloud.invoke` of a function that raised: ``error`` is Lambda's error payload."""

    def __init__(self, function: str, error: Any):
        self.function = function
        self.error = error
        super().__init__(f"{function} failed: {error}")


class LocalCloud:
    """One stack of the program, deployed into the running emulator (use `LocalCloud.running`)."""

    def __init__(self, stack: str = "local", region: str | None = None, repo: Path = program.REPO_ROOT):
        self.stack = stack
        self.repo = repo  # the project's folder: the shop (the repo root) or e.g. fulfillment/
        self.region = region or program.stack_config(stack, repo).get("aws:region", "us-east-1")
        self.account = program.ACCOUNT_ID
        self.state = materialize.StackState()
        self.config: dict[str, Any] = {}
        self.secrets: dict[str, str] = {}
        self.outputs: dict[str, Any] = {}
        self.summary: materialize.DeploySummary | None = None
        self.program_run: program.ProgramRun | None = None  # what the last deploy evaluated
        self._log_groups: dict[str, str | None] | None = None  # function name -> its log group
        self.pollers = Pollers(self.region, self.account)
        self.stream_pollers = StreamPollers(self.region, self.account)
        self.recorder = usage.ApiRecorder()
        self.function_logs = FunctionLogs(self.region, self.account, self._log_group_of)
        self._session = boto3.session.Session(region_name=self.region)
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()
        self._dynamodb_resource: Any = None
        self._runtime = emulator.runtime()
        self._runtime.listeners.append(self.function_logs)
        usage.activate(self.recorder)

    # ----------------------------------------------------------------------- lifecycle

    @classmethod
    @contextmanager
    def running(
        cls,
        stack: str = "local",
        config: Mapping[str, Any] | None = None,
        *,
        repo: Path = program.REPO_ROOT,
        secrets: Mapping[str, str] | None = None,
        clock: emulator.clock.Clock | None = None,
    ) -> Iterator[LocalCloud]:
        """The emulator with the stack of the project in `repo` deployed; everything stopped and joined on
        exit. With a ``clock.VirtualClock`` the workflows' timeouts fire only in ``advance()``."""
        region = program.stack_config(stack, repo).get("aws:region", "us-east-1")
        with emulator.emulator(region, clock):
            cloud = cls(stack, region, repo)
            try:
                cloud.deploy(config, secrets)
                yield cloud
            finally:
                cloud.close()

    def close(self) -> None:
        """Stop the pollers and the counting (the emulator's own exit stops executions)."""
        self.pollers.stop()
        self.stream_pollers.stop()
        if self.function_logs in self._runtime.listeners:
            self._runtime.listeners.remove(self.function_logs)
        usage.activate(None)

    def deploy(
        self, config: Mapping[str, Any] | None = None, secrets: Mapping[str, str] | None = None
    ) -> materialize.DeploySummary:
        """`pulumi up`: config overrides and secrets accumulate like `pulumi config set [--secret]` (keys
        with or without the project prefix); returns and keeps the summary. A secret the project declares
        and nobody gave gets a random value, as a developer would set one for an offline run."""
        self.config.update(config or {})
        self.secrets.update(materialize.qualified_config(secrets, self.repo))
        for key in program.declared_secrets(self.repo):
            self.secrets.setdefault(key, token_urlsafe(24))
        with self.recorder.paused():
            run, summary = materialize.deploy(
                self.stack, self.state, config=self.config, repo=self.repo, secrets=self.secrets
            )
            self.pollers.refresh()
            self.stream_pollers.refresh()
        self._log_groups = None  # rebuilt from what this deploy left (one built during it saw it half done)
        self.outputs = dict(run.outputs)
        self.summary = summary
        self.program_run = run
        return summary

    @property
    def clock(self) -> emulator.clock.Clock:
        """What the workflows' timed waits count on (see ``localcloud.emulator.clock``)."""
        return emulator.clock.current()

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` of virtual time pass (a ``VirtualClock`` only): every timeout due by then fires,
        in order, and what it sets off settles before the next one."""
        emulator.advance(seconds)

    def until_next_timeout(self, within: float = float("inf")) -> bool:
        """Let virtual time pass up to the earliest pending timeout and fire it; False (and no time
        passes) when no workflow waits on one due within ``within`` seconds."""
        due = self.clock.next_deadline()
        if due is None or due - self.clock.now() > within:
            return False
        self.advance(max(0.0, due - self.clock.now()))
        return True

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until deliveries are done, executions are parked and every poller is idle with its queue
        empty (messages waiting out a visibility timeout after a failure are not waited for)."""
        deadline = time.monotonic() + timeout
        quiet = 0
        while quiet < 2:
            emulator.settle(max(0.1, deadline - time.monotonic()))
            if self.pollers.idle() and self.stream_pollers.idle():
                quiet += 1
            else:
                quiet = 0
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the local cloud did not settle in {timeout}s: pollers busy")
                time.sleep(0.01)

    # ----------------------------------------------------------------------- clients and lookups

    def client(self, service: str) -> Any:
        with self._clients_lock:
            if service not in self._clients:
                self._clients[service] = self._session.client(service, region_name=self.region)
            return self._clients[service]

    def resource_id(self, logical_name: str, type_: str | None = None) -> str:
        return self.state.named(logical_name, type_).id

    def function_name(self, logical_name: str) -> str:
        return self.state.named(logical_name, FUNCTION).state["name"]

    def _log_group_of(self, function_name: str) -> str | None:
        # Asked on every invocation: the map is built once per deploy, not by a walk over every resource.
        groups = self._log_groups
        if groups is None:
            groups = self._log_groups = {
                deployed.state.get("name"): (deployed.inputs.get("loggingConfig") or {}).get("logGroup")
                for deployed in self.state.of_type(FUNCTION)
            }
        return groups.get(function_name)

    # ----------------------------------------------------------------------- driving the system

    def put_event(self, detail_type: str, detail: Mapping[str, Any]) -> str:
        """Put one event on the stack's bus with the stack's source; returns its id."""
        answer = self.client("events").put_events(
            Entries=[
                {
                    "EventBusName": self.outputs["eventBusName"],
                    "Source": self.outputs["eventSource"],
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail),
                }
            ]
        )
        if answer.get("FailedEntryCount"):
            raise RuntimeError(f"event rejected: {answer['Entries']}")
        return answer["Entries"][0]["EventId"]

    def order_manager(self, input: Mapping[str, Any]) -> dict[str, Any]:
        """Run the EXPRESS OrderManager synchronously: {status, output, error, cause} (output parsed)."""
        answer = self.client("stepfunctions").start_sync_execution(
            stateMachineArn=self.outputs["orderManagerArn"], input=json.dumps(input)
        )
        output = answer.get("output")
        return {
            "status": answer["status"],
            "output": json.loads(output) if output else None,
            "error": answer.get("error"),
            "cause": answer.get("cause"),
            "executionArn": answer.get("executionArn"),
        }

    def invoke(self, logical_function_name: str, payload: Any = None) -> Any:
        """Invoke a function synchronously by its logical name; raises `InvocationFailed` on error."""
        answer = self.client("lambda").invoke(
            FunctionName=self.function_name(logical_function_name), Payload=json.dumps(payload or {})
        )
        body = answer["Payload"].read()
        result = json.loads(body) if body else None
        if answer.get("FunctionError"):
            raise InvocationFailed(logical_function_name, result)
        return result

    def published(self, topic: str | None = None) -> list[iot.Message]:
        """What the apps were sent on IoT (one topic, or all), oldest first."""
        return iot.published(topic)

    def table(self, logical_name: str) -> Any:
        """The boto3 Table resource of a table by its logical name (e.g. ``shop-data-orders``)."""
        name = self.state.named(logical_name, TABLE).state["name"]
        return self._dynamodb().Table(name)

    def _dynamodb(self) -> Any:
        """One DynamoDB service resource (building one builds a client: a tenth of a test's time when
        every look at an order built a new one)."""
        with self._clients_lock:
            if self._dynamodb_resource is None:
                self._dynamodb_resource = self._session.resource("dynamodb", region_name=self.region)
            return self._dynamodb_resource

    # ----------------------------------------------------------------------- usage

    @property
    def usage(self) -> dict[str, Any]:
        """Counters for a cost model (see `localcloud.usage` for what each one counts)."""
        counted = self.recorder.snapshot()
        counted["lambda"] = {
            name: {
                "requests": used.requests,
                "errors": used.errors,
                "billed_duration_ms": used.billed_duration_ms,
                "memory_mb": used.memory_mb,
            }
            for name, used in sorted(self._runtime.usage.items())
        }
        counted["stepfunctions"].update(self._standard_transitions())
        counted["logs"] = self._log_bytes()
        counted["emf"] = {
            "documents": self.function_logs.emf_documents,
            "metric_values": self.function_logs.emf_values,
        }
        counted["apigateway"] = {"requests": apigateway.requests_served()}
        counted["iot"] = iot.usage()
        counted["pollers"] = {
            poller.queue_name: {
                "batches": poller.batches,
                "records_deleted": poller.records_deleted,
                "records_failed": poller.records_failed,
                "peak_concurrency": poller.peak_concurrency,
            }
            for poller in self.pollers.by_uuid.values()
        }
        return counted

    def _standard_transitions(self) -> dict[str, Any]:
        """State transitions of STANDARD executions: one per state entered (from execution history)."""
        from moto.stepfunctions.responses import get_backend

        backend = get_backend(self.account, self.region)
        executions = 0
        transitions = 0
        for machine in list(backend.state_machines):
            if getattr(machine, "type", "STANDARD") != "STANDARD":
                continue
            for execution in list(machine.executions):
                executions += 1
                history = backend.get_execution_history(execution.execution_arn)
                events = history.get("events", []) if isinstance(history, dict) else history["events"]
                transitions += sum(
                    1 for event in events if str(event.get("type", "")).endswith("StateEntered")
                )
        return {"standard_executions": executions, "standard_state_transitions": transitions}

    def _log_bytes(self) -> dict[str, Any]:
        """Bytes ingested per log group: each event's message plus CloudWatch's 26 bytes of overhead."""
        from moto.logs.models import logs_backends

        by_group = {}
        for name, group in list(logs_backends[self.account][self.region].groups.items()):
            size = sum(
                len(event.message.encode()) + 26
                for stream in list(group.streams.values())
                for event in stream.events
            )
            by_group[name] = size
        return {"ingested_bytes": sum(by_group.values()), "by_group": by_group}
