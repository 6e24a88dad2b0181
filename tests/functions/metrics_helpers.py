"""Metrics test helpers: SQS batches as Lambda receives them, a metrics table, EMF parsing, AWS call log."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.client
from botocore.exceptions import ClientError

from localcloud import emulator

REGION = "us-east-1"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:123456789012:metrics-queue"


def sqs_record(body: str, message_id: str | None = None, receipt_handle: str | None = None) -> dict[str, Any]:
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": receipt_handle or uuid.uuid4().hex,
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0"},
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": QUEUE_ARN,
        "awsRegion": REGION,
    }


def sqs_batch(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


def sqs_batch_from_messages(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """A ReceiveMessage result shaped the way the event source mapping hands it to the function."""
    return sqs_batch(*(sqs_record(m["Body"], m["MessageId"], m["ReceiptHandle"]) for m in messages))


def failed_ids(response: dict[str, Any]) -> list[str]:
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


def create_metrics_table(name: str = "metrics") -> str:
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def aggregates(table: str) -> dict[str, int]:
    """``{SK: val}`` of every ``Aggregate`` item."""
    items = boto3.client("dynamodb", region_name=REGION).query(
        TableName=table,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": "Aggregate"}},
    )["Items"]
    return {item["SK"]["S"]: int(item["val"]["N"]) for item in items}


def emf_documents(stdout: str) -> list[dict[str, Any]]:
    """The Embedded Metric Format documents among the lines a function printed."""
    documents = []
    for line in stdout.splitlines():
        try:
            document = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(document, dict) and "_aws" in document:
            documents.append(document)
    return documents


def emf_sums(
    documents: list[dict[str, Any]], namespace: str, metric: str, dimension: str
) -> dict[str, float]:
    """Sum of ``metric`` per value of ``dimension``, for documents whose only dimension is ``dimension``."""
    sums: dict[str, float] = {}
    for document in documents:
        for directive in document["_aws"]["CloudWatchMetrics"]:
            names = [definition["Name"] for definition in directive["Metrics"]]
            if directive["Namespace"] != namespace or metric not in names:
                continue
            assert directive["Dimensions"] == [[dimension]], directive["Dimensions"]
            values = document[metric] if isinstance(document[metric], list) else [document[metric]]
            sums[document[dimension]] = sums.get(document[dimension], 0) + sum(values)
    return sums


@dataclass
class AwsCallLog:
    """Every AWS API call made through botocore while active, with an optional fault to inject."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    fault: Callable[[str, dict[str, Any]], str | None] | None = None

    def operations(self) -> list[str]:
        return [operation for operation, _ in self.calls]

    def count(self, operation: str) -> int:
        return self.operations().count(operation)


def recording_api_calls(monkeypatch: Any) -> Iterator[AwsCallLog]:
    """Patch botocore's single call path; ``log.fault(op, params)`` may return an error code to raise."""
    log = AwsCallLog()
    real_call = botocore.client.BaseClient._make_api_call

    def call(client: Any, operation: str, params: dict[str, Any]) -> Any:
        log.calls.append((operation, params))
        error_code = log.fault(operation, params) if log.fault else None
        if error_code:
            raise ClientError({"Error": {"Code": error_code, "Message": "injected by the test"}}, operation)
        return real_call(client, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", call)
    yield log


def speed_up_bulk_delivery() -> None:
    """moto's costs that grow with volume (quadratic for 500 events) are closed in the emulator module."""
    emulator.install()
