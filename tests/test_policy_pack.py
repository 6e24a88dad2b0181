"""The policy pack: every stack of both projects keeps every rule (checked here over what the mocks record,
as `pulumi preview --policy-pack policy_pack` checks it in a pull request), and each rule refuses a
resource that breaks it, naming the policy."""

from __future__ import annotations

import json

import pytest

from policy_pack.rules import MANDATORY, RULES, Resource, as_policy

BY_NAME = {rule.name: rule for rule in RULES}


def resources_of(run) -> list[Resource]:
    by_urn = {r.urn: r for r in run.resources}
    return [
        Resource(
            type=r.type,
            name=r.name,
            urn=r.urn,
            props=r.inputs,
            protect=r.protect,
            ignore_changes=r.ignore_changes,
            dependencies=tuple(d for d in r.dependencies if d in by_urn),
        )
        for r in run.resources
    ]


@pytest.mark.parametrize("rule", RULES, ids=[rule.name for rule in RULES])
def test_every_stack_of_every_project_keeps_the_rule(program_run, project_stack, rule):
    assert rule.violations(resources_of(program_run(project_stack))) == []


def test_security_and_data_rules_are_mandatory_and_only_style_is_advisory():
    advisory = {rule.name for rule in RULES if rule.enforcement != MANDATORY}
    assert advisory == {"physical-names-scoped", "provider-default-tags"}


def _urn(type_: str, name: str, stack: str = "dev", project: str = "serverlesspresso") -> str:
    return f"urn:pulumi:{stack}::{project}::{type_}::{name}"


def make(type_: str, logical: str, stack: str = "dev", **props) -> Resource:
    return Resource(type=type_, name=logical, urn=_urn(type_, logical, stack), props=props)


QUEUE = "aws:sqs/queue:Queue"
POLICY = "aws:iam/rolePolicy:RolePolicy"


def policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


BREAKING = {
    "log-group-retention": [make("aws:cloudwatch/logGroup:LogGroup", "logs")],
    "no-wildcard-resources": [
        make(
            POLICY,
            "p",
            policy={"Statement": [{"Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": "*"}]},
        )
    ],
    "resource-policy-single-source": [
        make(
            "aws:sqs/queuePolicy:QueuePolicy",
            "qp",
            policy=policy(
                {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sqs:*"}
            ),
        )
    ],
    "rule-target-retry-and-dlq": [make("aws:cloudwatch/eventTarget:EventTarget", "t", retryPolicy={})],
    "api-gateway-account-owned": [
        make("serverlesspresso:api:ApiGatewayAccount", "api-gateway-account", owner=False),
        make(
            "aws:apigateway/account:Account", "api-gateway-account", cloudwatchRoleArn="arn:aws:iam::1:role/r"
        ),
    ],
    "function-failures-kept": [make("aws:lambda/function:Function", "fn")],
    "stream-consumer-dlq": [
        make("aws:lambda/eventSourceMapping:EventSourceMapping", "m", startingPosition="TRIM_HORIZON")
    ],
    "dead-letter-queue-alarm": [make(QUEUE, "orders-dlq", sqsManagedSseEnabled=True)],
    "queue-encryption": [make(QUEUE, "q")],
    "table-encryption": [make("aws:dynamodb/table:Table", "t", serverSideEncryption={"enabled": False})],
    "seed-items-create-only": [make("aws:dynamodb/tableItem:TableItem", "seed")],
    "api-methods-signed-in": [
        make("aws:apigateway/method:Method", "api-get-orders", httpMethod="GET", authorization="NONE")
    ],
    "api-cors-preflight": [
        make(
            "aws:apigateway/method:Method",
            "api-get-orders",
            httpMethod="GET",
            authorization="COGNITO_USER_POOLS",
        )
    ],
    "prod-data-protected": [
        make("aws:dynamodb/table:Table", "orders", stack="prod", serverSideEncryption={"enabled": True})
    ],
    "physical-names-scoped": [
        make("aws:cloudwatch/logGroup:LogGroup", "logs", name="/aws/events/all-events")
    ],
    "provider-default-tags": [
        make("pulumi:providers:aws", "aws", defaultTags=json.dumps({"tags": {"project": "serverlesspresso"}}))
    ],
}


def test_every_rule_has_a_resource_that_breaks_it():
    assert set(BREAKING) == set(BY_NAME)


@pytest.mark.parametrize("name", sorted(BREAKING))
def test_each_rule_refuses_a_resource_that_breaks_it_and_names_the_policy(name):
    [first, *_] = BY_NAME[name].violations(BREAKING[name])
    assert first.startswith(f"{name}: ")


def test_a_dead_letter_queue_with_its_alarm_and_a_preflighted_path_pass():
    queue = make(QUEUE, "orders-dlq", sqsManagedSseEnabled=True)
    alarm = Resource(
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        "orders-dlq-not-empty",
        _urn("aws:cloudwatch/metricAlarm:MetricAlarm", "a"),
        {"namespace": "AWS/SQS", "alarmActions": ["arn:aws:sns:eu-west-1:1:alarms"]},
        dependencies=(queue.urn,),
    )
    assert BY_NAME["dead-letter-queue-alarm"].violations([queue, alarm]) == []
    path = make("aws:apigateway/resource:Resource", "api-orders")
    get = Resource(
        "aws:apigateway/method:Method",
        "api-get-orders",
        _urn("m", "get"),
        {"httpMethod": "GET", "authorization": "COGNITO_USER_POOLS"},
        dependencies=(path.urn,),
    )
    options = Resource(
        "aws:apigateway/method:Method",
        "api-options-orders",
        _urn("m", "options"),
        {"httpMethod": "OPTIONS", "authorization": "NONE"},
        dependencies=(path.urn,),
    )
    mock = Resource(
        "aws:apigateway/integration:Integration",
        "api-options-orders",
        _urn("i", "mock"),
        {"type": "MOCK"},
        dependencies=(options.urn,),
    )
    assert BY_NAME["api-cors-preflight"].violations([path, get, options, mock]) == []


def test_the_pack_reports_each_violation_to_the_policy_engine_at_the_rules_level():
    from pulumi_policy import EnforcementLevel, PolicyResource, PolicyResourceOptions, StackValidationArgs

    rule = BY_NAME["log-group-retention"]
    policy_resource = PolicyResource(
        resource_type="aws:cloudwatch/logGroup:LogGroup",
        props={},
        urn=_urn("aws:cloudwatch/logGroup:LogGroup", "logs"),
        name="logs",
        opts=PolicyResourceOptions(False, [], None, [], None, []),
        provider=None,
        parent=None,
        dependencies=[],
        property_dependencies={},
    )
    reported: list[str] = []
    stack_policy = as_policy(rule)
    stack_policy.validate(
        StackValidationArgs([policy_resource]), lambda message, urn=None: reported.append(message)
    )
    assert stack_policy.enforcement_level == EnforcementLevel.MANDATORY
    assert reported == ["log group logs keeps its logs forever: set retentionInDays"]


@pytest.mark.parametrize("rule", RULES, ids=[rule.name for rule in RULES])
def test_every_rule_looks_at_resources_the_programs_really_declare(program_run, rule):
    """A rule with nothing to look at would pass for every stack and prove nothing."""
    from tests.conftest import every_project_stack

    assert rule.types
    seen = {r.type for stack in every_project_stack() for r in program_run(stack).resources}
    assert set(rule.types) & seen, f"{rule.name}: no stack declares any of {rule.types}"


def test_a_log_group_policy_may_leave_stream_creation_unconditioned_but_not_writing():
    [rule] = [r for r in RULES if r.name == "resource-policy-single-source"]
    service = {"Service": "events.amazonaws.com"}
    create = {"Effect": "Allow", "Principal": service, "Action": ["logs:CreateLogStream"], "Resource": "g:*"}
    put = {"Effect": "Allow", "Principal": service, "Action": ["logs:PutLogEvents"], "Resource": "g:*"}
    condition = {"Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:events:eu-west-1:1:rule/r"}}}
    group = "aws:cloudwatch/logResourcePolicy:LogResourcePolicy"

    assert rule.violations([make(group, "ok", policyDocument=policy(create, {**put, **condition}))]) == []
    refused = rule.violations([make(group, "open", policyDocument=policy(create, put))])
    assert len(refused) == 1 and "open" in refused[0]
    both = {**create, "Action": ["logs:CreateLogStream", "logs:PutLogEvents"]}
    assert len(rule.violations([make(group, "both", policyDocument=policy(both))])) == 1
