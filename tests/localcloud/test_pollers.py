"""SQS event source mappings are polled like Lambda: batches, partial batch failures, redrive to the DLQ,
and throttling when the pollers outnumber the function's reserved concurrency."""

from __future__ import annotations

import io
import json
import time
import zipfile

import boto3
import pytest

from localcloud.emulator import sqs_pollers
from localcloud.emulator.sqs_pollers import Pollers

REGION = "us-east-1"
# Records whose body is "fail" are reported as failed; every record seen is written to a table.
# A "hold" record keeps its invocation running, its own message kept invisible, until the test puts the
# item "gate" into the table: while it holds the function's only slot, every other batch is throttled.
HANDLER = """
import os, time, boto3
table = boto3.resource("dynamodb").Table(os.environ["SEEN_TABLE"])
sqs = boto3.client("sqs")

def hold(record):
    queue_url = sqs.get_queue_url(QueueName=record["eventSourceARN"].split(":")[-1])["QueueUrl"]
    handle = record["receiptHandle"]
    sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=handle, VisibilityTimeout=300)

def wait_for_the_gate():
    deadline = time.monotonic() + 120
    while "Item" not in table.get_item(Key={"PK": "gate"}) and time.monotonic() < deadline:
        time.sleep(0.02)

def handler(event, context):
    failures = []
    table.put_item(Item={"PK": "batch-" + context.aws_request_id, "size": len(event["Records"])})
    for record in event["Records"]:
        if record["body"].startswith("hold"):
            hold(record)
        table.update_item(
            Key={"PK": record["body"]},
            UpdateExpression="ADD seen :one",
            ExpressionAttributeValues={":one": 1},
        )
        if record["body"].startswith("fail"):
            failures.append({"itemIdentifier": record["messageId"]})
        if record["body"].startswith("slow"):
            time.sleep(0.5)
        if record["body"].startswith("hold"):
            wait_for_the_gate()
    return {"batchItemFailures": failures}
"""


def function_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        bundle.writestr("handler.py", HANDLER)
    return buffer.getvalue()


def deploy_consumer(
    reserved: int, maximum: int | None, batch_size: int = 5, window: int = 1, visibility: int = 2
) -> dict:
    """A queue (``visibility`` seconds, short so a failed message is retried soon; DLQ after 2 receives),
    a reporting consumer with ``reserved`` concurrency, its mapping (``maximum`` concurrency or none) and
    pollers. A test that expects no retry gives a visibility far beyond a batch's time on a slow machine,
    so a batch still being processed is never received a second time."""
    sqs = boto3.client("sqs", region_name=REGION)
    ddb = boto3.client("dynamodb", region_name=REGION)
    iam = boto3.client("iam", region_name=REGION)
    lam = boto3.client("lambda", region_name=REGION)
    ddb.create_table(
        TableName="seen",
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dlq_url = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    queue_url = sqs.create_queue(
        QueueName="work",
        Attributes={
            "VisibilityTimeout": str(visibility),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}),
        },
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    role = iam.create_role(RoleName="consumer", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam.create_function(
        FunctionName="consumer",
        Runtime="python3.13",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": function_zip()},
        Environment={"Variables": {"SEEN_TABLE": "seen"}},
    )
    lam.put_function_concurrency(FunctionName="consumer", ReservedConcurrentExecutions=reserved)
    lam.create_event_source_mapping(
        EventSourceArn=queue_arn,
        FunctionName="consumer",
        BatchSize=batch_size,
        MaximumBatchingWindowInSeconds=window,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        **({"ScalingConfig": {"MaximumConcurrency": maximum}} if maximum else {}),
    )
    pollers = Pollers(REGION)
    pollers.refresh()
    return {
        "sqs": sqs,
        "queue": queue_url,
        "dlq": dlq_url,
        "seen": boto3.resource("dynamodb").Table("seen"),
        "pollers": pollers,
    }


@pytest.fixture
def consumer(aws):
    """Batches of 5, at most 2 at once, within a reserved concurrency of 2: never throttled. A failed
    message is visible again after 6 s (a batch that succeeds is done long before, even on a slow machine)."""
    deployed = deploy_consumer(reserved=2, maximum=2, visibility=6)
    try:
        yield deployed
    finally:
        deployed["pollers"].stop()


@pytest.fixture
def make_consumer(aws):
    deployed: list[dict] = []

    def make(**settings) -> dict:
        deployed.append(deploy_consumer(**settings))
        return deployed[-1]

    try:
        yield make
    finally:
        for consumer in deployed:
            consumer["pollers"].stop()


def wait_until(condition, timeout=15.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(0.02)


def send(sqs, queue, bodies):
    for start in range(0, len(bodies), 10):
        sqs.send_message_batch(
            QueueUrl=queue,
            Entries=[
                {"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies[start : start + 10])
            ],
        )


def dlq_bodies(sqs, dlq):
    return [m["Body"] for m in sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", [])]


def test_only_reported_failures_are_retried_and_reach_the_dlq_after_max_receives(consumer):
    sqs, seen = consumer["sqs"], consumer["seen"]
    send(sqs, consumer["queue"], ["ok-1", "fail-1", "ok-2", "ok-3"])

    # Two receives of fail-1, each followed by its 6 s visibility timeout: 12.1 s on an idle machine, so
    # the limit is far beyond it (15 s left a slow machine three seconds).
    wait_until(lambda: dlq_bodies(sqs, consumer["dlq"]) == ["fail-1"], timeout=60)

    assert [seen.get_item(Key={"PK": body})["Item"]["seen"] for body in ("ok-1", "ok-2", "ok-3")] == [1, 1, 1]
    assert seen.get_item(Key={"PK": "fail-1"})["Item"]["seen"] == 2  # maxReceiveCount receives, then the DLQ
    visible = sqs.get_queue_attributes(
        QueueUrl=consumer["queue"], AttributeNames=["ApproximateNumberOfMessages"]
    )
    assert visible["Attributes"]["ApproximateNumberOfMessages"] == "0"


def test_batches_never_exceed_the_mappings_batch_size(make_consumer):
    consumer = make_consumer(reserved=2, maximum=2, visibility=60)
    sqs, seen = consumer["sqs"], consumer["seen"]
    bodies = [f"ok-{i}" for i in range(12)]
    send(sqs, consumer["queue"], bodies)

    wait_until(lambda: all("Item" in seen.get_item(Key={"PK": body}) for body in bodies))

    sizes = [item["size"] for item in seen.scan()["Items"] if item["PK"].startswith("batch-")]
    assert sum(sizes) == 12
    assert max(sizes) <= 5
    assert max(sizes) > 1  # the batching window gathered more than one message


def test_the_batching_window_gathers_messages_sent_after_the_first_was_taken(make_consumer, monkeypatch):
    # One poller and a window far longer than the test: the batch is handed over when it is full, so the
    # outcome does not depend on the machine's speed. The second message is sent once the first is taken.
    monkeypatch.setattr(sqs_pollers, "DEFAULT_CONCURRENCY", 1)
    consumer = make_consumer(reserved=1, maximum=None, batch_size=2, window=60, visibility=120)
    sqs, seen = consumer["sqs"], consumer["seen"]

    def in_flight() -> int:
        attributes = sqs.get_queue_attributes(
            QueueUrl=consumer["queue"], AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessagesNotVisible"])

    send(sqs, consumer["queue"], ["ok-first"])
    wait_until(lambda: in_flight() == 1)
    send(sqs, consumer["queue"], ["ok-second"])

    wait_until(lambda: all("Item" in seen.get_item(Key={"PK": b}) for b in ("ok-first", "ok-second")))
    sizes = [item["size"] for item in seen.scan()["Items"] if item["PK"].startswith("batch-")]
    assert sizes == [2]


def _poller(consumer):
    (poller,) = consumer["pollers"].by_uuid.values()
    return poller


def test_pollers_outnumbering_the_reserved_concurrency_throttle_and_dead_letter_unprocessed_messages(
    make_consumer,
):
    # Five pollers, one slot. "hold-1" takes the slot and keeps it until the gate opens, so each receive
    # of "queued-1" is throttled, whatever the machine's speed: two receives (maxReceiveCount), each
    # followed by the 2 s visibility timeout, and the third attempt moves it to the dead-letter queue.
    consumer = make_consumer(reserved=1, maximum=None, batch_size=1, window=0)
    sqs, seen = consumer["sqs"], consumer["seen"]
    send(sqs, consumer["queue"], ["hold-1"])
    wait_until(lambda: "Item" in seen.get_item(Key={"PK": "hold-1"}), 60)
    send(sqs, consumer["queue"], ["queued-1"])

    dead_lettered: list[str] = []

    def some_dead_lettered() -> bool:
        dead_lettered.extend(dlq_bodies(sqs, consumer["dlq"]))  # a read hides them from the next one
        return bool(dead_lettered)

    wait_until(some_dead_lettered, 60)
    seen.put_item(Item={"PK": "gate"})
    wait_until(lambda: _poller(consumer).idle(), 60)

    poller = _poller(consumer)
    assert dead_lettered == ["queued-1"]
    assert "Item" not in seen.get_item(Key={"PK": "queued-1"})  # never processed
    assert poller.records_throttled == 2
    assert seen.get_item(Key={"PK": "hold-1"})["Item"]["seen"] == 1
    assert poller.peak_concurrency == 1
    assert poller.concurrency == 5  # Lambda's initial pollers, whatever the function reserves


def test_a_maximum_concurrency_within_the_reserved_concurrency_is_never_throttled(make_consumer):
    consumer = make_consumer(reserved=2, maximum=2, batch_size=1, window=0, visibility=60)
    sqs, seen = consumer["sqs"], consumer["seen"]
    bodies = [f"slow-{i}" for i in range(8)]
    send(sqs, consumer["queue"], bodies)

    wait_until(
        lambda: all(seen.get_item(Key={"PK": body}).get("Item", {}).get("seen") for body in bodies), 60
    )

    poller = _poller(consumer)
    assert poller.records_throttled == 0
    assert poller.concurrency == 2
    assert poller.peak_concurrency <= 2
    assert dlq_bodies(sqs, consumer["dlq"]) == []
    assert [seen.get_item(Key={"PK": body})["Item"]["seen"] for body in bodies] == [1] * len(bodies)
