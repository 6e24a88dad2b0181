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
