"""The SQS gaps closed by localcloud.emulator.sqs: the retention check no longer rebuilds every attribute,
every message operation is atomic, and receipt handles, deletes and the visible list cost less per
message with the same answers."""

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


# --- gap 2: every message operation is atomic --------------------------------------------------------


def test_a_delete_waits_for_a_receive_that_is_walking_the_queue(aws, monkeypatch):
    import threading

    from moto.sqs.models import Message

    client = boto3.client("sqs")
    queue_url = client.create_queue(QueueName="busy")["QueueUrl"]
    for n in range(2):
        client.send_message(QueueUrl=queue_url, MessageBody=f"m{n}")
    first = client.receive_message(QueueUrl=queue_url, VisibilityTimeout=30)["Messages"][0]

    inside, release = threading.Event(), threading.Event()
    original_mark = Message.mark_received

    def paused_mark(self, *args, **kwargs):
        inside.set()
        release.wait(timeout=30)  # holds the receive in the middle of its walk over the queue
        return original_mark(self, *args, **kwargs)

    monkeypatch.setattr(Message, "mark_received", paused_mark)
    receiver = threading.Thread(target=lambda: client.receive_message(QueueUrl=queue_url), daemon=True)
    receiver.start()
    assert inside.wait(timeout=30)
    deleter = threading.Thread(
        target=lambda: client.delete_message(QueueUrl=queue_url, ReceiptHandle=first["ReceiptHandle"]),
        daemon=True,
    )
    deleter.start()
    deleter.join(timeout=0.5)
    held_back = deleter.is_alive()  # moto's own would change the in-flight set under the receive here
    release.set()
    receiver.join(timeout=30)
    deleter.join(timeout=30)

    assert held_back
    assert not receiver.is_alive() and not deleter.is_alive()


def test_a_long_poll_gets_a_message_sent_while_it_waits(aws):
    import threading

    client = boto3.client("sqs")
    queue_url = client.create_queue(QueueName="long-poll")["QueueUrl"]
    answers = []
    poller = threading.Thread(
        target=lambda: answers.append(client.receive_message(QueueUrl=queue_url, WaitTimeSeconds=20)),
        daemon=True,
    )
    poller.start()
    client.send_message(QueueUrl=queue_url, MessageBody="late")  # not kept out by the waiting receive
    poller.join(timeout=30)

    assert [message["Body"] for message in answers[0]["Messages"]] == ["late"]


# --- gap 3: costs per message --------------------------------------------------------------------------


def test_each_receive_hands_out_a_new_185_letter_handle_and_any_handle_of_a_message_deletes_it(aws):
    import re

    client = boto3.client("sqs")
    queue_url = client.create_queue(QueueName="handles")["QueueUrl"]
    for body in ("first", "second", "third"):
        client.send_message(QueueUrl=queue_url, MessageBody=body)
    received = client.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    by_body = {message["Body"]: message["ReceiptHandle"] for message in received}
    client.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=by_body["first"], VisibilityTimeout=0)
    [again] = client.receive_message(QueueUrl=queue_url)["Messages"]  # the first, visible again
    handles = [*by_body.values(), again["ReceiptHandle"]]

    assert again["Body"] == "first"
    assert all(re.fullmatch(r"[a-z]{185}", handle) for handle in handles), handles
    assert len(set(handles)) == len(handles)

    client.delete_message(QueueUrl=queue_url, ReceiptHandle=by_body["first"])  # its earlier handle
    client.delete_message(QueueUrl=queue_url, ReceiptHandle=by_body["first"])  # again: accepted
    client.delete_message(QueueUrl=queue_url, ReceiptHandle=by_body["third"])
    bodies = [
        message.body for message in sqs_backends["123456789012"]["us-east-1"].get_queue("handles")._messages
    ]
    assert bodies == ["second"]
    try:
        client.delete_message(QueueUrl=queue_url, ReceiptHandle="z" * 185)
    except client.exceptions.ReceiptHandleIsInvalid:
        pass
    else:
        raise AssertionError("an unknown receipt handle was accepted")


def test_only_messages_past_their_delay_and_visibility_timeout_are_received(aws):
    client = boto3.client("sqs")
    queue_url = client.create_queue(QueueName="visible")["QueueUrl"]
    client.send_message(QueueUrl=queue_url, MessageBody="delayed", DelaySeconds=60)
    client.send_message(QueueUrl=queue_url, MessageBody="ready")
    client.send_message(QueueUrl=queue_url, MessageBody="in flight")
    [in_flight] = [
        m
        for m in sqs_backends["123456789012"]["us-east-1"].get_queue("visible")._messages
        if m.body == "in flight"
    ]
    in_flight.mark_received(visibility_timeout=60)

    received = client.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert [message["Body"] for message in received] == ["ready"]

    in_flight.visible_at -= 61_000
    for message in sqs_backends["123456789012"]["us-east-1"].get_queue("visible")._messages:
        message.delayed_until -= 61_000
    later = client.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert sorted(message["Body"] for message in later) == ["delayed", "in flight"]
