"""Fixtures for testing one Lambda function folder in-process against moto.

- ``lambda_context``: a Lambda context object good enough for Powertools' ``inject_lambda_context``.
- ``load_function(name, env)``: sets ``env`` (undone after the test) and imports
  ``functions/<name>/handler.py`` the way Lambda does. Call it while a moto mock is active (``aws`` or
  ``mocked_aws``), so the clients the module builds at import time talk to moto.
- ``mocked_aws``: a plain ``moto.mock_aws()`` for tests that need no Step Functions execution.
- ``eventbridge_event(detail_type, detail)``: an EventBridge envelope as a rule delivers it to a target.
- ``event_tap(bus_name)``: an SQS queue subscribed to every event of ``source`` on the bus;
  ``tap.received()`` returns the events delivered so far (full envelopes, ``detail`` parsed).
- ``order_table``: the order table of SYSTEM.md §6 (keys, GSI-status, GSI-userId, LSI-timestamp).
- ``function_logs``: the records the functions' Powertools logger wrote during the test
  (``function_logs.at("WARNING")`` → messages).
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core.models import MockAWS

from localcloud.emulator.lambda_runtime import Handler, LambdaContext, load_handler

FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"
DEFAULT_SOURCE = "awsserverlessda.serverlesspresso"
REGION = "us-east-1"
ACCOUNT = "123456789012"


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext(
        function_name="test-function",
        invoked_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:test-function",
        memory_limit_in_mb=128,
        timeout_s=30,
    )


@pytest.fixture
def mocked_aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def load_function(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Handler]:
    def load(name: str, env: Mapping[str, str] | None = None, handler: str = "handler.handler") -> Handler:
        if not MockAWS._mocks_active:
            raise RuntimeError(
                f"load_function({name!r}) needs an active moto mock (use the 'aws' or 'mocked_aws' fixture): "
                "clients created at import time would otherwise point at real AWS"
            )
        for key, value in (env or {}).items():
            monkeypatch.setenv(key, value)
        return load_handler(FUNCTIONS_DIR / name, handler)

    return load


@pytest.fixture
def eventbridge_event() -> Callable[..., dict[str, Any]]:
    def build(detail_type: str, detail: Any, source: str = DEFAULT_SOURCE) -> dict[str, Any]:
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": detail_type,
            "source": source,
            "account": ACCOUNT,
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": REGION,
            "resources": [],
            "detail": detail,
        }

    return build


class EventTap:
    """Every event of one source on one bus, copied into an SQS queue the test can read back."""

    def __init__(self, bus_name: str, source: str = DEFAULT_SOURCE) -> None:
        self._sqs = boto3.client("sqs", region_name=REGION)
        events = boto3.client("events", region_name=REGION)
        tap_name = f"tap-{uuid.uuid4().hex[:8]}"
        self._queue_url = self._sqs.create_queue(QueueName=tap_name)["QueueUrl"]
        queue_arn = self._sqs.get_queue_attributes(QueueUrl=self._queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        events.put_rule(Name=tap_name, EventBusName=bus_name, EventPattern=json.dumps({"source": [source]}))
        events.put_targets(Rule=tap_name, EventBusName=bus_name, Targets=[{"Id": "tap", "Arn": queue_arn}])
        self._seen: list[dict[str, Any]] = []

    def received(self) -> list[dict[str, Any]]:
        while True:
            messages = self._sqs.receive_message(QueueUrl=self._queue_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not messages:
                return list(self._seen)
            for message in messages:
                self._seen.append(json.loads(message["Body"]))
                self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])

    def of_type(self, detail_type: str) -> list[dict[str, Any]]:
        return [event for event in self.received() if event["detail-type"] == detail_type]


@pytest.fixture
def event_tap() -> Callable[..., EventTap]:
    return EventTap


class LogCapture(logging.Handler):
    """Records of the Powertools logger of the running service (the logger is named after the service)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def at(self, level: str) -> list[str]:
        return [record.getMessage() for record in self.records if record.levelname == level]


@pytest.fixture
def function_logs() -> Iterator[LogCapture]:
    service_logger = logging.getLogger(os.environ["POWERTOOLS_SERVICE_NAME"])
    capture = LogCapture()
    service_logger.addHandler(capture)
    yield capture
    service_logger.removeHandler(capture)


@pytest.fixture
def order_table(mocked_aws: None) -> Any:
    """The order table of SYSTEM.md §6 (keys and indexes), empty; a boto3 ``Table`` resource."""
    dynamodb = boto3.resource("dynamodb", region_name=REGION)
    projection = {"ProjectionType": "ALL"}
    return dynamodb.create_table(
        TableName=f"orders-{uuid.uuid4().hex[:8]}",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": kind}
            for name, kind in (("PK", "S"), ("SK", "S"), ("ORDERSTATE", "S"), ("USERID", "S"), ("TS", "N"))
        ],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "GSI-status",
                "KeySchema": [
                    {"AttributeName": "ORDERSTATE", "KeyType": "HASH"},
                    {"AttributeName": "SK", "KeyType": "RANGE"},
                ],
                "Projection": projection,
            },
            {
                "IndexName": "GSI-userId",
                "KeySchema": [
                    {"AttributeName": "USERID", "KeyType": "HASH"},
                    {"AttributeName": "SK", "KeyType": "RANGE"},
                ],
                "Projection": projection,
            },
        ],
        LocalSecondaryIndexes=[
            {
                "IndexName": "LSI-timestamp",
                "KeySchema": [
                    {"AttributeName": "PK", "KeyType": "HASH"},
                    {"AttributeName": "TS", "KeyType": "RANGE"},
                ],
                "Projection": projection,
            }
        ],
    )
