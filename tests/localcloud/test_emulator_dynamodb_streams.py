"""DynamoDB stream mappings are polled like Lambda polls a stream: in order, filtered, batched, from the
mapping's starting position, failed batches retried from the failed record, then sent to the on-failure
destination; and the poller's work is what `idle()` reports."""

from __future__ import annotations

import io
import json
import time
import zipfile

import boto3
import pytest

from localcloud.emulator.dynamodb_streams import StreamPollers, stream_record

REGION = "us-east-1"
# Every record seen is written to the `seen` table; a key starting "fail" is reported as failed.
HANDLER = """
import os, boto3
seen = boto3.resource("dynamodb").Table(os.environ["SEEN_TABLE"])

def handler(event, context):
    failures = []
    seen.put_item(Item={"PK": "batch-" + context.aws_request_id, "size": len(event["Records"])})
    for record in event["Records"]:
        key = record["dynamodb"]["Keys"]["PK"]["S"]
        seen.update_item(Key={"PK": key + "#" + record["eventName"]}, UpdateExpression="ADD n :one",
                         ExpressionAttributeValues={":one": 1})
        if key.startswith("fail"):
            failures.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})
    return {"batchItemFailures": failures}
"""


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        bundle.writestr("handler.py", HANDLER)
    return buffer.getvalue()


@pytest.fixture
def stream(aws):
    ddb = boto3.client("dynamodb", region_name=REGION)
    for name, stream_spec in (
        ("source", {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}),
        ("seen", None),
    ):
        ddb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            **({"StreamSpecification": stream_spec} if stream_spec else {}),
        )
    stream_arn = ddb.describe_table(TableName="source")["Table"]["LatestStreamArn"]
    role = boto3.client("iam").create_role(RoleName="consumer", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    boto3.client("lambda", region_name=REGION).create_function(
        FunctionName="consumer",
        Runtime="python3.13",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": _zip()},
        Environment={"Variables": {"SEEN_TABLE": "seen"}},
    )
    dlq = boto3.client("sqs", region_name=REGION).create_queue(QueueName="stream-dlq")["QueueUrl"]
    pollers = StreamPollers(REGION)

    class Stream:
        arn = stream_arn
        dlq_url = dlq
        table = boto3.resource("dynamodb", region_name=REGION).Table("source")
        seen_table = boto3.resource("dynamodb", region_name=REGION).Table("seen")

        def map(self, **settings):
            dlq_arn = boto3.client("sqs", region_name=REGION).get_queue_attributes(
                QueueUrl=dlq, AttributeNames=["QueueArn"]
            )["Attributes"]["QueueArn"]
            boto3.client("lambda", region_name=REGION).create_event_source_mapping(
                EventSourceArn=stream_arn,
                FunctionName="consumer",
                FunctionResponseTypes=["ReportBatchItemFailures"],
                DestinationConfig={"OnFailure": {"Destination": dlq_arn}},
                **settings,
            )
            pollers.refresh()

        def settle(self, limit: float = 30):
            deadline = time.monotonic() + limit
            while not pollers.idle():
                assert time.monotonic() < deadline, "the stream poller never became idle"
                time.sleep(0.02)

        def seen(self, key: str) -> int:
            return int(self.seen_table.get_item(Key={"PK": key}).get("Item", {}).get("n", 0))

        def batch_sizes(self) -> list[int]:
            items = self.seen_table.scan()["Items"]
            return sorted(int(i["size"]) for i in items if i["PK"].startswith("batch-"))

        def dead_letters(self) -> list[dict]:
            answer = boto3.client("sqs", region_name=REGION).receive_message(
                QueueUrl=dlq, MaxNumberOfMessages=10
            )
            return [json.loads(m["Body"]) for m in answer.get("Messages", [])]

    yield Stream()
    pollers.stop()


def test_only_records_matching_the_filter_reach_the_function(stream):
    stream.map(
        StartingPosition="TRIM_HORIZON",
        BatchSize=1,
        FilterCriteria={"Filters": [{"Pattern": json.dumps({"eventName": ["INSERT", "MODIFY"]})}]},
    )
    stream.table.put_item(Item={"PK": "a", "v": 1})
    stream.table.put_item(Item={"PK": "a", "v": 2})
    stream.table.delete_item(Key={"PK": "a"})
    stream.settle()
    assert (stream.seen("a#INSERT"), stream.seen("a#MODIFY"), stream.seen("a#REMOVE")) == (1, 1, 0)


def test_trim_horizon_starts_at_the_oldest_record_and_latest_after_the_mapping(stream):
    stream.table.put_item(Item={"PK": "before"})
    stream.map(StartingPosition="LATEST", BatchSize=10)
    stream.table.put_item(Item={"PK": "after"})
    stream.settle()
    assert (stream.seen("before#INSERT"), stream.seen("after#INSERT")) == (0, 1)


def test_trim_horizon_delivers_what_was_written_before_the_mapping(stream):
    stream.table.put_item(Item={"PK": "before"})
    stream.map(StartingPosition="TRIM_HORIZON", BatchSize=10)
    stream.settle()
    assert stream.seen("before#INSERT") == 1


def test_batches_never_exceed_the_batch_size_and_every_record_arrives_once(stream):
    stream.map(StartingPosition="TRIM_HORIZON", BatchSize=3)
    for i in range(8):
        stream.table.put_item(Item={"PK": f"k{i}"})
    stream.settle()
    assert max(stream.batch_sizes()) <= 3
    assert [stream.seen(f"k{i}#INSERT") for i in range(8)] == [1] * 8


def test_a_failed_record_is_retried_from_itself_then_described_on_the_failure_destination(stream):
    # The records are written before the mapping reads from the oldest one, so its first batch holds all
    # three whatever the machine's speed (a poller started first could take "fail-me" before "later").
    stream.table.put_item(Item={"PK": "ok"})
    stream.table.put_item(Item={"PK": "fail-me"})
    stream.table.put_item(Item={"PK": "later"})
    stream.map(StartingPosition="TRIM_HORIZON", BatchSize=10, MaximumRetryAttempts=2)
    stream.settle()
    # Records before the failure are not redone; the failed one is tried 1 + 2 times.
    assert stream.seen("ok#INSERT") == 1
    assert stream.seen("fail-me#INSERT") == 3
    [letter] = stream.dead_letters()
    assert letter["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert letter["DDBStreamBatchInfo"]["streamArn"] == stream.arn
    assert letter["DDBStreamBatchInfo"]["batchSize"] == 2  # "fail-me" and "later": retried from the failure
    assert stream.batch_sizes() == [2, 2, 3]  # one batch of all three, then the two retries


def test_records_are_shaped_as_lambda_hands_them_over():
    from datetime import UTC, datetime

    shaped = stream_record(
        {
            "eventID": "1",
            "eventName": "INSERT",
            "eventSource": "aws:dynamodb",
            "eventVersion": "1.0",
            "awsRegion": "us-east-1",
            "dynamodb": {"ApproximateCreationDateTime": datetime(2026, 1, 1, tzinfo=UTC), "Keys": {}},
        },
        "arn:aws:dynamodb:eu-west-1:1:table/t/stream/x",
        "eu-west-1",
    )
    assert shaped["dynamodb"]["ApproximateCreationDateTime"] == datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    assert (shaped["awsRegion"], shaped["eventSourceARN"]) == (
        "eu-west-1",
        "arn:aws:dynamodb:eu-west-1:1:table/t/stream/x",
    )
