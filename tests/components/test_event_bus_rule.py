"""EventBusRule: each target type gets exactly the permission it needs, scoped to this rule."""

from __future__ import annotations

import json

import pytest

from components.event_bus_rule import (
    DeliveryPolicy,
    EventBusRule,
    FunctionTarget,
    LogGroupTarget,
    QueueTarget,
    StateMachineTarget,
)
from localcloud import program

DELIVERY = DeliveryPolicy(retry_attempts=4, max_event_age_seconds=600, dead_letter_retention_seconds=3600)
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:orders"
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:started"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:metrics"
LOGS = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/events/all"


def rule_with(**targets):
    def declare():
        EventBusRule(
            "new-order",
            bus_name="bus",
            event_pattern={"source": ["shop"], "detail-type": ["Validator.NewOrder"]},
            targets=targets,
            delivery=DELIVERY,
        )

    return program.run("dev", declare)


def rule_arn(run):
    return run.named("new-order").state["arn"]


def test_state_machine_target_gets_a_role_that_may_start_only_that_machine():
    run = rule_with(workflow=StateMachineTarget(arn=MACHINE))
    policy = json.loads(run.named("new-order-workflow-policy").inputs["policy"])
    assert policy["Statement"] == [
        {"Effect": "Allow", "Action": ["states:StartExecution"], "Resource": [MACHINE]}
    ]
    role = run.named("new-order-workflow-role")
    assert run.named("new-order-workflow").inputs["roleArn"] == role.state["arn"]
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "events.amazonaws.com"}


def test_function_target_permission_names_this_rule_as_source():
    run = rule_with(started=FunctionTarget(arn=FUNCTION, name="started"))
    permission = run.named("new-order-started-permission")
    assert permission.inputs["sourceArn"] == rule_arn(run)
    assert permission.inputs["principal"] == "events.amazonaws.com"
    assert permission.inputs["function"] == "started"
    assert "roleArn" not in run.named("new-order-started").inputs


def test_queue_target_policy_admits_only_this_rule():
    run = rule_with(metrics=QueueTarget(arn=QUEUE, url="https://sqs/metrics"))
    policy = json.loads(run.named("new-order-metrics-policy").inputs["policy"])
    [statement] = policy["Statement"]
    assert statement["Resource"] == QUEUE
    assert statement["Action"] == ["sqs:SendMessage"]
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": rule_arn(run)}}


def test_log_group_target_may_create_streams_and_only_this_rule_may_write_events():
    """EventBridge creates a log stream without naming the rule: a SourceArn condition there would refuse
    every stream, and every event would end in the dead-letter queue."""
    run = rule_with(logs=LogGroupTarget(arn=LOGS, name="/aws/events/all"))
    document = json.loads(run.named("new-order-logs-policy").inputs["policyDocument"])
    create, put = document["Statement"]
    assert (create["Action"], create["Resource"], "Condition" in create) == (
        ["logs:CreateLogStream"],
        f"{LOGS}:*",
        False,
    )
    assert (put["Action"], put["Resource"]) == (["logs:PutLogEvents"], f"{LOGS}:*")
    assert put["Condition"] == {"ArnEquals": {"aws:SourceArn": rule_arn(run)}}


def test_each_target_retries_and_has_its_own_dead_letter_queue():
    run = rule_with(
        workflow=StateMachineTarget(arn=MACHINE), started=FunctionTarget(arn=FUNCTION, name="started")
    )
    dlqs = {}
    for key in ("workflow", "started"):
        target = run.named(f"new-order-{key}")
        assert target.inputs["retryPolicy"] == {"maximumRetryAttempts": 4, "maximumEventAgeInSeconds": 600}
        dlqs[key] = target.inputs["deadLetterConfig"]["arn"]
        assert dlqs[key] == run.named(f"new-order-{key}-dlq").state["arn"]
        dlq_policy = json.loads(run.named(f"new-order-{key}-dlq-policy").inputs["policy"])
        assert dlq_policy["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"] == rule_arn(run)
    assert dlqs["workflow"] != dlqs["started"]


def test_pattern_is_sent_as_json():
    run = rule_with(logs=LogGroupTarget(arn=LOGS, name="/aws/events/all"))
    pattern = json.loads(run.named("new-order").inputs["eventPattern"])
    assert pattern == {"detail-type": ["Validator.NewOrder"], "source": ["shop"]}


def test_a_rule_without_targets_is_refused():
    with pytest.raises(ValueError, match="needs at least one target"):
        rule_with()


def test_children_are_parented_to_the_component():
    run = rule_with(workflow=StateMachineTarget(arn=MACHINE))
    component = run.named("new-order-workflow-role")
    parent = run.by_urn(component.parent)
    assert parent.type == "serverlesspresso:events:EventBusRule"
