"""Tiny inline workflows, functions, queues and rules for the emulator's tests (use the ``aws`` fixture)."""

from __future__ import annotations

import io
import json
import zipfile

import boto3

from localcloud import emulator

ROLE_ARN = "arn:aws:iam::123456789012:role/test-role"


PARK_ON_TOKEN = {
    "Type": "Task",
    "Resource": "arn:aws:states:::events:putEvents.waitForTaskToken",
    "Parameters": {
        "Entries": [{"Source": "test.parked", "DetailType": "Parked", "Detail": {"token.$": "$$.Task.Token"}}]
    },
    "End": True,
}
# A workflow that ends at once.
PASS_ONLY = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}


HANDLER_SOURCE = """
import io
import json
import os

import boto3


def echo(event, context):
    return {"got": event, "flavour": os.environ["FLAVOUR"], "function": context.function_name,
            "time_left": context.get_remaining_time_in_millis() > 0}


def fail(event, context):
    raise ValueError("no " + os.environ["FLAVOUR"])


def relay(event, context):
    boto3.client("events").put_events(
        Entries=[{"Source": "test.relay", "DetailType": "Relayed", "Detail": json.dumps(event["detail"])}]
    )


def record(event, context):
    boto3.client("sqs").send_message(QueueUrl=os.environ["OUTPUT_QUEUE_URL"], MessageBody=json.dumps(event))
    return "recorded"
"""


def create_machine(definition: dict, name: str = "machine", machine_type: str = "STANDARD") -> str:
    return boto3.client("stepfunctions").create_state_machine(
        name=name, definition=json.dumps(definition), roleArn=ROLE_ARN, type=machine_type
    )["stateMachineArn"]


def history(execution_arn: str) -> list[dict]:
    return boto3.client("stepfunctions").get_execution_history(executionArn=execution_arn)["events"]


def task_outputs(execution_arn: str) -> list[dict]:
    return [
        json.loads(event["taskSucceededEventDetails"]["output"])
        for event in history(execution_arn)
        if "taskSucceededEventDetails" in event
    ]


def queue_arn_of(queue_url: str) -> str:
    attributes = boto3.client("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    return attributes["Attributes"]["QueueArn"]


def describe(execution_arn: str) -> dict:
    return boto3.client("stepfunctions").describe_execution(executionArn=execution_arn)


def run(machine_arn: str, payload: dict | None = None) -> dict:
    sfn = boto3.client("stepfunctions")
    execution_arn = sfn.start_execution(stateMachineArn=machine_arn, input=json.dumps(payload or {}))[
        "executionArn"
    ]
    emulator.settle()
    return describe(execution_arn)


def code_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", HANDLER_SOURCE)
    return buffer.getvalue()


def lambda_role() -> str:
    iam = boto3.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    try:
        return iam.get_role(RoleName="function-role")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        return iam.create_role(RoleName="function-role", AssumeRolePolicyDocument=json.dumps(trust))["Role"][
            "Arn"
        ]


def create_function(name: str, handler: str, **environment: str) -> str:
    return boto3.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role=lambda_role(),
        Handler=f"app.{handler}",
        Code={"ZipFile": code_zip()},
        Environment={"Variables": {"FLAVOUR": "mocha", **environment}},
    )["FunctionArn"]


def create_queue(name: str) -> tuple[str, str]:
    queue_url = boto3.client("sqs").create_queue(QueueName=name)["QueueUrl"]
    return queue_url, queue_arn_of(queue_url)


def received_bodies(queue_url: str) -> list[dict]:
    messages = boto3.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
    return [json.loads(message["Body"]) for message in messages.get("Messages", [])]


def park_on_token(**extra) -> dict:
    return {**PARK_ON_TOKEN, **extra}


def tokens_tap() -> str:
    """A queue receiving every token the parked tasks emit."""
    queue_url, queue_arn = create_queue("tokens")
    events = boto3.client("events")
    events.put_rule(Name="parked", EventPattern=json.dumps({"source": ["test.parked"]}))
    events.put_targets(Rule="parked", Targets=[{"Id": "queue", "Arn": queue_arn}])
    return queue_url


def next_token(queue_url: str) -> str:
    """The one token waiting in the tap (taken out of it)."""
    sqs = boto3.client("sqs")
    [message] = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return json.loads(message["Body"])["detail"]["token"]


def invoke_task(function_arn: str, **extra) -> dict:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": function_arn, "Payload.$": "$"},
        **extra,
    }


def put_event(detail: dict, detail_type: str = "Order.Placed") -> None:
    boto3.client("events").put_events(
        Entries=[{"Source": "test.shop", "DetailType": detail_type, "Detail": json.dumps(detail)}]
    )


def route(rule: str, *targets: dict, source: str = "test.shop") -> None:
    events = boto3.client("events")
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": [source]}))
    events.put_targets(Rule=rule, Targets=list(targets))
