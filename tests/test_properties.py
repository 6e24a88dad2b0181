"""Properties that must hold for every resource the program records, in every stack of both projects
(the shop and the order fulfillment), beyond the policy pack's rules (tests/test_policy_pack.py): these
need the stack's config, its outputs or several stacks at once."""

from __future__ import annotations

import json

import pytest

from policy_pack.rules import EXPLICIT_NAME_INPUTS, NAMED_INSIDE_A_STACK_RESOURCE
from tests.conftest import every_project_stack

# What each project must declare, so that a property below can never hold because nothing was checked.
SEED_ITEMS = {
    "serverlesspresso": {"shop-data-seed-config", "shop-data-seed-menu"},
    "fulfillment": set(),
}
API_PATHS_AT_LEAST = {"serverlesspresso": 7, "fulfillment": 1}
SERVICE_INTEGRATIONS_AT_LEAST = {"serverlesspresso": 1, "fulfillment": 0}


@pytest.fixture
def stack(project_stack):
    """Every property below is checked for every stack of every project."""
    return project_stack


def _as_list(value):
    return value if isinstance(value, list) else [value]


def test_every_aws_resource_goes_through_the_tagged_stack_provider(program_run, stack):
    run = program_run(stack)
    [provider] = run.of_type("pulumi:providers:aws")
    default_tags = provider.inputs["defaultTags"]
    # Provider inputs reach the engine as JSON text.
    tags = (json.loads(default_tags) if isinstance(default_tags, str) else default_tags)["tags"]
    expected = stack.settings.load_config(
        stack,
        {
            k.split(":", 1)[1]: v
            for k, v in provider_config(stack).items()
            if k.startswith(f"{stack.project}:")
        },
        provider.inputs["region"],
    ).tags
    assert tags == {"project": stack.project, "stack": stack, **expected}
    for resource in run.resources:
        if resource.type.startswith("aws:"):
            assert resource.provider.startswith(provider.urn), resource.urn


def provider_config(stack):
    from localcloud import program

    return program.stack_config(stack, stack.repo)


def test_every_log_group_has_the_stack_retention(program_run, stack):
    run = program_run(stack)
    retention = int(provider_config(stack)[f"{stack.project}:logRetentionDays"])
    groups = run.of_type("aws:cloudwatch/logGroup:LogGroup")
    assert groups
    for group in groups:
        assert group.inputs.get("retentionInDays") == retention, group.name


def test_two_stacks_in_one_account_never_share_a_physical_name(program_run):
    def physical_names(stack):
        return {
            r.state.get(k)
            for r in program_run(stack).resources
            if r.type.startswith("aws:") and r.type not in NAMED_INSIDE_A_STACK_RESOURCE
            for k in EXPLICIT_NAME_INPUTS
            if r.state.get(k)
        }

    stacks = every_project_stack()
    for index, one in enumerate(stacks):
        assert physical_names(one), repr(one)
        for other in stacks[index + 1 :]:
            assert physical_names(one).isdisjoint(physical_names(other)), (one, other)


def test_every_project_declares_its_seed_items_and_api_paths(program_run, stack):
    """What the policy pack's rules (tests/test_policy_pack.py) look at is really there."""
    run = program_run(stack)
    assert {i.name for i in run.of_type("aws:dynamodb/tableItem:TableItem")} >= SEED_ITEMS[stack.project]
    assert len(_api_paths(run)) >= API_PATHS_AT_LEAST[stack.project]


def test_every_dead_letter_queue_raises_an_alarm_on_the_stack_topic(program_run, stack):
    run = program_run(stack)
    alarmed = {
        alarm.inputs["dimensions"]["QueueName"]: alarm.inputs["alarmActions"]
        for alarm in run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
        if alarm.inputs["namespace"] == "AWS/SQS"
    }
    dead_letter_queues = [q for q in run.of_type("aws:sqs/queue:Queue") if q.name.endswith("-dlq")]
    assert dead_letter_queues
    for queue in dead_letter_queues:
        assert alarmed.get(queue.state["name"]) == [run.outputs["alarmTopicArn"]], queue.name


# The only methods anyone may call without signing in: the menu and settings for the apps (SYSTEM §8), and
# the order fulfillment's Producer API (SYSTEM §9).
PUBLIC_ROUTES = {"serverlesspresso": {("GET", "config")}, "fulfillment": {("GET", "")}}


def _api_paths(run):
    """{(api urn, path): {method: Method registration}} for every API method the program declares."""
    resources = {r.id: r for r in run.of_type("aws:apigateway/resource:Resource")}
    apis = {r.state["rootResourceId"]: r for r in run.of_type("aws:apigateway/restApi:RestApi")}

    def path_of(resource_id):
        if resource_id in apis:
            return ""
        resource = resources[resource_id]
        return f"{path_of(resource.inputs['parentId'])}/{resource.inputs['pathPart']}"

    paths = {}
    for method in run.of_type("aws:apigateway/method:Method"):
        key = (method.inputs["restApi"], path_of(method.inputs["resourceId"]) or "/")
        paths.setdefault(key, {})[method.inputs["httpMethod"]] = method
    return paths


def test_every_service_integration_may_call_exactly_its_own_action(program_run, stack):
    run = program_run(stack)
    roles = {r.state["arn"]: r for r in run.of_type("aws:iam/role:Role")}
    policies = {
        p.inputs["role"]: json.loads(p.inputs["policy"]) for p in run.of_type("aws:iam/rolePolicy:RolePolicy")
    }
    service_calls = [
        i for i in run.of_type("aws:apigateway/integration:Integration") if i.inputs["type"] == "AWS"
    ]
    assert len(service_calls) >= SERVICE_INTEGRATIONS_AT_LEAST[stack.project]
    for integration in service_calls:
        service, _, operation = integration.inputs["uri"].split(":", 4)[-1].partition(":action/")
        role = roles[integration.inputs["credentials"]]
        [statement] = policies[role.id]["Statement"]
        assert statement["Action"] == [f"{service}:{operation}"], integration.name
        assert all(arn.startswith(f"arn:aws:{service}:") for arn in statement["Resource"]), integration.name


# --- alarms reach someone; queue consumers are never throttled (issue 11) ---------------------------
# Every stack of both projects; queue consumers only the shop has.


def _shop_stacks():
    from localcloud import program

    return program.stack_names()


def _allows(statement, principal_service, action):
    principals = statement.get("Principal", {})
    services = _as_list(principals.get("Service", [])) if isinstance(principals, dict) else []
    actions = _as_list(statement["Action"])
    granted = any(a == action or (a.endswith("*") and action.startswith(a[:-1])) for a in actions)
    return statement["Effect"] == "Allow" and principal_service in services and granted


def test_every_alarm_topic_can_be_published_to_by_cloudwatch_under_its_key_policy(program_run, stack):
    run = program_run(stack)
    topics = {topic.state["arn"]: topic for topic in run.of_type("aws:sns/topic:Topic")}
    keys = {ref: key for key in run.of_type("aws:kms/key:Key") for ref in (key.state["arn"], key.id)}
    alarms = run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    assert alarms
    for alarm in alarms:
        assert alarm.inputs["alarmActions"], alarm.name
        for topic_arn in alarm.inputs["alarmActions"]:
            topic = topics[topic_arn]
            key_ref = topic.inputs.get("kmsMasterKeyId")
            if not key_ref:
                continue  # an unencrypted topic needs no key permission
            assert key_ref in keys, (
                f"{topic.name} is encrypted with {key_ref!r}, a key whose policy is not ours"
            )
            statements = json.loads(keys[key_ref].inputs["policy"])["Statement"]
            for needed in ("kms:Decrypt", "kms:GenerateDataKey"):
                assert any(_allows(s, "cloudwatch.amazonaws.com", needed) for s in statements), (
                    f"CloudWatch may not {needed} with the key of {topic.name}, so {alarm.name} never arrives"
                )


def test_every_function_and_workflow_raises_alarms_on_the_alarm_topic(program_run, stack):
    run = program_run(stack)
    topic = run.outputs["alarmTopicArn"]
    watched = {}
    for alarm in run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"):
        assert alarm.inputs["alarmActions"] == [topic], alarm.name
        for value in alarm.inputs.get("dimensions", {}).values():
            watched.setdefault(value, set()).add(alarm.inputs["metricName"])
    for function in run.of_type("aws:lambda/function:Function"):
        assert "Errors" in watched.get(function.state["name"], set()), function.name
    machines = run.of_type("aws:sfn/stateMachine:StateMachine")
    assert machines
    filters = {
        f.inputs["metricTransformation"]["name"]
        for f in run.of_type("aws:cloudwatch/logMetricFilter:LogMetricFilter")
    }
    alarmed_metrics = {a.inputs["metricName"] for a in run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    for machine in machines:
        assert "ExecutionsTimedOut" in watched.get(machine.state["arn"], set()), machine.name
        fails_alarmed = "ExecutionsFailed" in watched.get(machine.state["arn"], set())
        assert fails_alarmed or any(name in alarmed_metrics for name in filters if machine.name in name), (
            machine.name
        )


@pytest.mark.parametrize("shop_stack", _shop_stacks())
def test_no_queue_consumer_can_be_throttled_into_its_dead_letter_queue(program_run, shop_stack):
    run = program_run(shop_stack)
    functions = {f.state["arn"]: f for f in run.of_type("aws:lambda/function:Function")}
    mappings = [
        m
        for m in run.of_type("aws:lambda/eventSourceMapping:EventSourceMapping")
        if ":sqs:" in m.inputs["eventSourceArn"]
    ]
    assert mappings
    for mapping in mappings:
        maximum = (mapping.inputs.get("scalingConfig") or {}).get("maximumConcurrency")
        reserved = functions[mapping.inputs["functionName"]].inputs.get("reservedConcurrentExecutions")
        assert maximum, f"{mapping.name} polls with as many batches as Lambda likes"
        assert reserved is None or maximum <= reserved, (
            f"{mapping.name}: {maximum} batches, {reserved} reserved"
        )
