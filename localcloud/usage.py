"""Count the billable work done inside the emulator, for a cost model.

Every AWS API call made through boto3/botocore in this process — by tests and the local cloud's API, by
the Lambda handlers, by the Step Functions interpreter's service integrations, and by the SQS pollers —
passes moto's botocore stubber; `install()` wraps it once, and the active `ApiRecorder` counts each call
as (service, operation), with the request and moto's response at hand. Calls made while the recorder is
paused (the deploy itself) are not counted. What each counter means:

- ``api_calls[service][operation]``: requests as made (a batch of 10 SQS messages is one request).
- ``dynamodb``: read/write request units per table, approximated for items of at most 1 KB: GetItem,
  Query and Scan 1 RRU per call; BatchGetItem 1 per key; PutItem/UpdateItem/DeleteItem 1 WRU (also when
  a condition fails, as on AWS); BatchWriteItem 1 per request item; TransactWriteItems/TransactGetItems
  2 per item. Read consistency and item sizes are not modelled.
- ``eventbridge.events_put``: entries sent with PutEvents (AWS bills per 64 KB chunk of an entry; local
  entries are small, so one entry = one event).
- ``sqs.requests``: SQS API requests; ``sqs.empty_receives`` counts the ReceiveMessage calls that found
  nothing (the pollers wait for a message before receiving, so they make almost none; Lambda's real
  pollers make about 3 long-poll requests per minute per poller even when the queue is idle).
  Messages moto delivers into queues on behalf of EventBridge rules are not API calls here.
- ``stepfunctions.express_requests``/``express_duration_ms``: StartSyncExecution calls and the executions'
  duration from their start/stop dates (billed on AWS in 100 ms steps at 64 MB; both are reported).
- ``cloudwatch.put_metric_data_calls``: PutMetricData made through the API (the metrics consumer must
  make none: it prints EMF, which the emulator extracts without an API call — see `localcloud.emf`).
"""

from __future__ import annotations

import json
import math
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_install_lock = threading.Lock()
_installed = False
_active: ApiRecorder | None = None


def _json(raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    if not isinstance(raw, str) or not raw.startswith("{"):
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        return {}


_ANSWERS_READ = {("sqs", "ReceiveMessage"), ("sfn", "StartSyncExecution")}


class ApiRecorder:
    """Counters of one local cloud session (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._paused = 0
        self.api_calls: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.read_units: dict[str, int] = defaultdict(int)
        self.write_units: dict[str, int] = defaultdict(int)
        self.events_put = 0
        self.empty_receives = 0
        self.express_requests = 0
        self.express_duration_ms = 0.0
        self.express_billed_ms = 0

    @contextmanager
    def paused(self) -> Iterator[None]:
        with self._lock:
            self._paused += 1
        try:
            yield
        finally:
            with self._lock:
                self._paused -= 1

    def record(self, service: str, operation: str, body: Any, response: Any) -> None:
        if self._paused:
            return
        request = _json(body) if service in ("dynamodb", "eventbridge", "sfn", "sqs") else {}
        answer = {}
        if (service, operation) in _ANSWERS_READ:  # never a streaming body (Lambda's Payload): reading
            answer = _json(response.content)  # it here would leave nothing for the caller
        with self._lock:
            self.api_calls[service][operation] += 1
            if service == "dynamodb":
                self._dynamodb_units(operation, request)
            elif service == "eventbridge" and operation == "PutEvents":
                self.events_put += len(request.get("Entries") or [])
            elif service == "sqs" and operation == "ReceiveMessage" and not answer.get("Messages"):
                self.empty_receives += 1
            elif service == "sfn" and operation == "StartSyncExecution":
                self.express_requests += 1
                if "startDate" in answer and "stopDate" in answer:
                    duration = max(0.0, (float(answer["stopDate"]) - float(answer["startDate"])) * 1000)
                    self.express_duration_ms += duration
                    self.express_billed_ms += max(100, math.ceil(duration / 100) * 100)

    def _dynamodb_units(self, operation: str, request: dict[str, Any]) -> None:
        table = request.get("TableName", "?")
        if operation in ("GetItem", "Query", "Scan"):
            self.read_units[table] += 1
        elif operation in ("PutItem", "UpdateItem", "DeleteItem"):
            self.write_units[table] += 1
        elif operation == "BatchGetItem":
            for name, spec in (request.get("RequestItems") or {}).items():
                self.read_units[name] += len(spec.get("Keys") or [])
        elif operation == "BatchWriteItem":
            for name, writes in (request.get("RequestItems") or {}).items():
                self.write_units[name] += len(writes)
        elif operation in ("TransactWriteItems", "TransactGetItems"):
            units = self.write_units if operation == "TransactWriteItems" else self.read_units
            for item in request.get("TransactItems") or []:
                for action in item.values():
                    units[action.get("TableName", "?")] += 2

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            sqs_requests = sum(self.api_calls.get("sqs", {}).values())
            return {
                "api_calls": {service: dict(ops) for service, ops in self.api_calls.items()},
                "dynamodb": {
                    "read_units": dict(self.read_units),
                    "write_units": dict(self.write_units),
                    "total_read_units": sum(self.read_units.values()),
                    "total_write_units": sum(self.write_units.values()),
                },
                "eventbridge": {"events_put": self.events_put},
                "sqs": {"requests": sqs_requests, "empty_receives": self.empty_receives},
                "stepfunctions": {
                    "express_requests": self.express_requests,
                    "express_duration_ms": round(self.express_duration_ms, 3),
                    "express_billed_ms": self.express_billed_ms,
                },
                "cloudwatch": {
                    "put_metric_data_calls": self.api_calls.get("cloudwatch", {}).get("PutMetricData", 0)
                },
            }


def _service_and_operation(event_name: str) -> tuple[str, str]:
    # botocore emits "before-send.<service id, hyphenated>.<Operation>"
    _, _, rest = event_name.partition(".")
    service, _, operation = rest.rpartition(".")
    return service.lower(), operation


def install() -> None:
    """Wrap moto's botocore stubber so every mocked call reaches the active recorder; idempotent."""
    global _installed
    with _install_lock:
        if _installed:
            return
        from moto.core.botocore_stubber import BotocoreStubber

        original = BotocoreStubber.__call__

        def counting_call(self, event_name, request, **kwargs):
            response = original(self, event_name, request, **kwargs)
            recorder = _active
            if recorder is not None and response is not None:
                service, operation = _service_and_operation(event_name)
                recorder.record(service, operation, request.body, response)
            return response

        BotocoreStubber.__call__ = counting_call
        _installed = True


def activate(recorder: ApiRecorder | None) -> None:
    """Make `recorder` the one counting calls (None: stop counting)."""
    global _active
    install()
    _active = recorder
