"""Each EventBridge gap closed by localcloud.emulator.events, shown with tiny inline rules and targets."""

from __future__ import annotations

import json

import boto3

from localcloud import emulator
from tests.localcloud.emulator_helpers import (
    PARK_ON_TOKEN,
    PASS_ONLY,
    ROLE_ARN,
    create_function,
    create_machine,
    create_queue,
    describe,
    history,
    invoke_task,
    put_event,
    received_bodies,
    route,
)

# --- gap 1: rules deliver to Step Functions and Lambda targets ------------------------------------


def test_rule_starts_the_target_workflow_with_the_whole_event_and_still_feeds_its_queue(aws):
    sfn = boto3.client("stepfunctions")
    machine_arn = create_machine(PASS_ONLY)
    queue_url, queue_arn = create_queue("audit")
    route(
        "orders",
        {"Id": "workflow", "Arn": machine_arn, "RoleArn": ROLE_ARN},
        {"Id": "audit", "Arn": queue_arn},
    )

    put_event({"orderId": "1"})
    emulator.settle()

    [execution] = sfn.list_executions(stateMachineArn=machine_arn)["executions"]
    received = json.loads(describe(execution["executionArn"])["input"])
    assert received["detail-type"] == "Order.Placed"
    assert received["detail"] == {"orderId": "1"}
    assert {"version", "id", "source", "account", "time", "region", "resources"} <= set(received)
    assert [body["detail"] for body in received_bodies(queue_url)] == [{"orderId": "1"}]


def test_target_input_path_selects_what_the_workflow_receives(aws):
    machine_arn = create_machine(PASS_ONLY)
    route("orders", {"Id": "workflow", "Arn": machine_arn, "RoleArn": ROLE_ARN, "InputPath": "$.detail"})

    put_event({"orderId": "2"})
    emulator.settle()

    [execution] = boto3.client("stepfunctions").list_executions(stateMachineArn=machine_arn)["executions"]
    assert json.loads(describe(execution["executionArn"])["input"]) == {"orderId": "2"}


def test_rule_invokes_the_target_function_asynchronously_with_the_event(aws):
    queue_url, _ = create_queue("output")
    function_arn = create_function("record", "record", OUTPUT_QUEUE_URL=queue_url)
    route("orders", {"Id": "function", "Arn": function_arn, "Input": json.dumps({"fixed": True})})

    put_event({"orderId": "3"})
    emulator.settle()

    assert received_bodies(queue_url) == [{"fixed": True}]


def test_failing_target_function_is_retried_then_dead_lettered_by_the_function_not_the_rule(aws):
    rule_dlq_url, rule_dlq_arn = create_queue("rule-dlq")
    failures_url, failures_arn = create_queue("function-failures")
    function_arn = create_function("fail", "fail")
    boto3.client("lambda").put_function_event_invoke_config(
        FunctionName="fail", DestinationConfig={"OnFailure": {"Destination": failures_arn}}
    )
    route("orders", {"Id": "function", "Arn": function_arn, "DeadLetterConfig": {"Arn": rule_dlq_arn}})

    put_event({"orderId": "4"})
    emulator.settle()

    assert emulator.runtime().usage["fail"].requests == 1 + emulator.DEFAULT_ASYNC_RETRIES
    [failure] = received_bodies(failures_url)
    assert failure["requestPayload"]["detail"] == {"orderId": "4"}
    assert received_bodies(rule_dlq_url) == []


def test_an_event_the_rule_cannot_hand_over_lands_in_the_rules_dead_letter_queue(aws):
    rule_dlq_url, rule_dlq_arn = create_queue("rule-dlq")
    missing = "arn:aws:lambda:us-east-1:123456789012:function:gone"
    route("orders", {"Id": "function", "Arn": missing, "DeadLetterConfig": {"Arn": rule_dlq_arn}})

    put_event({"orderId": "5"})
    emulator.settle()

    [dead] = received_bodies(rule_dlq_url)
    assert dead["detail"] == {"orderId": "5"}


def test_settle_waits_for_cascading_deliveries(aws):
    echo_arn = create_function("echo", "echo")
    machine_arn = create_machine(
        {"StartAt": "Echo", "States": {"Echo": invoke_task(echo_arn, Next="Park"), "Park": PARK_ON_TOKEN}}
    )
    route("orders", {"Id": "relay", "Arn": create_function("relay", "relay")})
    route("relayed", {"Id": "workflow", "Arn": machine_arn, "RoleArn": ROLE_ARN}, source="test.relay")

    put_event({"orderId": "6"})
    emulator.settle()

    [execution] = boto3.client("stepfunctions").list_executions(stateMachineArn=machine_arn)["executions"]
    started = [event for event in history(execution["executionArn"]) if event["type"] == "TaskStarted"]
    assert [event["taskStartedEventDetails"]["resourceType"] for event in started] == ["lambda", "events"]
