"""The order-fulfillment workflow (`asl/order_fulfillment.asl.json`) executed by moto: an EU order
notification goes `Pass` → `Emit Order Processed` and the run succeeds without waiting for anyone. And
every definition in `asl/` passes statelint once its placeholders are filled."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import boto3
import pytest
from statelint.linter import Linter

from components.asl import placeholders, render_definition
from tests.workflows.workflow_stack import eventually

ASL = Path(__file__).resolve().parents[2] / "asl" / "order_fulfillment.asl.json"
SOURCE = "com.aws.orders"
ROLE_ARN = "arn:aws:iam::123456789012:role/fulfillment-workflow"
NOTIFICATION = {
    "version": "0",
    "id": "3f2a1b4c-0000-4000-8000-000000000001",
    "detail-type": "Order Notification",
    "source": SOURCE,
    "account": "123456789012",
    "time": "2026-11-30T10:00:00Z",
    "region": "us-east-1",
    "resources": [],
    "detail": {"category": "office-supplies", "location": "eu-west", "value": 300},
}


@pytest.fixture
def fulfillment(aws):
    """The bus, an SQS tap of every order event, and the workflow rendered for that bus."""
    events, sqs = boto3.client("events"), boto3.client("sqs")
    bus = f"orders-{uuid.uuid4().hex[:6]}"
    events.create_event_bus(Name=bus)
    tap_url = sqs.create_queue(QueueName=f"{bus}-tap")["QueueUrl"]
    tap_arn = sqs.get_queue_attributes(QueueUrl=tap_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(Name="tap", EventBusName=bus, EventPattern=json.dumps({"source": [SOURCE]}))
    events.put_targets(Rule="tap", EventBusName=bus, Targets=[{"Id": "tap", "Arn": tap_arn}])
    definition = render_definition(ASL.read_text(), {"EventBusName": bus, "EventSource": SOURCE})
    machine = boto3.client("stepfunctions").create_state_machine(
        name="order-fulfillment", definition=definition, roleArn=ROLE_ARN
    )["stateMachineArn"]

    def emitted() -> list[dict]:
        messages = sqs.receive_message(QueueUrl=tap_url, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"]) for m in messages]

    return machine, emitted


def test_an_eu_order_notification_emits_order_processed_with_the_order_and_succeeds(fulfillment):
    machine, emitted = fulfillment
    sfn = boto3.client("stepfunctions")
    run = sfn.start_execution(stateMachineArn=machine, input=json.dumps(NOTIFICATION))["executionArn"]

    done = eventually(
        lambda: (d := sfn.describe_execution(executionArn=run))["status"] != "RUNNING" and d, "the run to end"
    )

    assert done["status"] == "SUCCEEDED"
    history = sfn.get_execution_history(executionArn=run)["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
    assert entered == ["Pass", "Emit Order Processed"]
    [event] = emitted()
    assert (event["source"], event["detail-type"]) == (SOURCE, "Order Processed")
    assert event["detail"] == {"OrderId": "new_id", "OrderDetails": NOTIFICATION["detail"]}


def test_the_emit_waits_for_no_callback():
    definition = json.loads(ASL.read_text())
    emit = definition["States"]["Emit Order Processed"]

    assert emit["Resource"] == "arn:aws:states:::events:putEvents"
    assert emit["End"] is True
    assert "TimeoutSeconds" not in emit and "HeartbeatSeconds" not in emit


@pytest.mark.parametrize("path", sorted(ASL.parent.glob("*.asl.json")), ids=lambda p: p.name)
def test_every_definition_in_asl_passes_statelint_once_filled(path):
    """A new definition is linted the day it is added, not when someone remembers to list it."""
    template = path.read_text()
    rendered = json.loads(render_definition(template, dict.fromkeys(placeholders(template), 1)))

    assert Linter.validate(rendered) == []


def test_the_fulfillment_definition_names_its_bus_and_source_only_through_placeholders():
    assert placeholders(ASL.read_text()) == {"EventBusName", "EventSource"}
    [entry] = json.loads(ASL.read_text())["States"]["Emit Order Processed"]["Parameters"]["Entries"]
    assert (entry["EventBusName"], entry["Source"]) == ("${EventBusName}", "${EventSource}")
