"""The SQS gap closed by localcloud.emulator.sqs: the retention check no longer rebuilds every attribute."""

from __future__ import annotations

import boto3
from moto.sqs.models import sqs_backends

from localcloud.emulator import sqs

# --- gap 1: retention is checked per message, with moto's result ---------------------------------------


def test_a_message_older_than_the_retention_period_is_no_longer_received(aws):
    client = boto3.client("sqs")
    attributes = {"MessageRetentionPeriod": "60"}
    queue_url = client.create_queue(QueueName="short", Attributes=attributes)["QueueUrl"]
    client.send_message(QueueUrl=queue_url, MessageBody="fresh")
    client.send_message(QueueUrl=queue_url, MessageBody="expired")
    [_, expired] = sqs_backends["123456789012"]["us-east-1"].get_queue("short")._messages
    expired.sent_timestamp -= 61_000

    received = client.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]

    assert [message["Body"] for message in received] == ["fresh"]


def test_send_message_puts_a_message_with_string_attributes_into_the_queue(aws):
    client = boto3.client("sqs")
    queue_url = client.create_queue(QueueName="dead-letters")["QueueUrl"]
    attributes = client.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]
    arn = attributes["QueueArn"]

    sqs.send_message(arn, '{"n": 1}', {"ERROR_CODE": "Gone"})

    [message] = client.receive_message(QueueUrl=queue_url, MessageAttributeNames=["All"])["Messages"]
    assert message["Body"] == '{"n": 1}'
    assert message["MessageAttributes"]["ERROR_CODE"] == {"StringValue": "Gone", "DataType": "String"}


# --- gap 1: a send no longer counts every message --------------------------------------------------


def test_a_send_looks_at_no_message_already_queued_and_the_counts_stay_right(aws, monkeypatch):
    from moto.sqs.models import Message

    client = boto3.client("sqs")
    queue_url = client.create_queue(QueueName="burst")["QueueUrl"]
    client.send_message_batch(
        QueueUrl=queue_url, Entries=[{"Id": str(n), "MessageBody": str(n)} for n in range(10)]
    )
    client.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=2, VisibilityTimeout=300)
    looked_at = []
    visible = Message.visible
    monkeypatch.setattr(Message, "visible", property(lambda m: looked_at.append(m) or visible.fget(m)))

    client.send_message(QueueUrl=queue_url, MessageBody="one more")
    assert looked_at == []

    counts = client.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert counts == {"ApproximateNumberOfMessages": "9", "ApproximateNumberOfMessagesNotVisible": "2"}
