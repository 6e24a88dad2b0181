"""Properties that must hold for every resource the program records, in every stack of both projects
(the shop and the order fulfillment)."""

from __future__ import annotations

import json

import pytest

from components.iam import AWS_MANDATED_WILDCARDS
from localcloud.program import NAME_INPUTS
from tests.conftest import every_project_stack

POLICY_INPUTS = {
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:sqs/queuePolicy:QueuePolicy": "policy",
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": "policyDocument",
}
EXPLICIT_NAME_INPUTS = ("name", "namePrefix", "policyName", *NAME_INPUTS.values())
# Names that only have to be unique inside a parent the stack owns: the `admin` group (a fixed name the
# apps rely on) inside the stack's user pool, an authorizer inside the stack's API.
NAMED_INSIDE_A_STACK_RESOURCE = ("aws:cognito/userGroup:UserGroup", "aws:apigateway/authorizer:Authorizer")
# What each project must declare, so that a property below can never hold because nothing was checked.
SEED_ITEMS = {
    "serverlesspresso": {"shop-data-seed-config", "shop-data-seed-menu", "shop-data-seed-counter"},
    "fulfillment": set(),
}
API_PATHS_AT_LEAST = {"serverlesspresso": 7, "fulfillment": 1}
SERVICE_INTEGRATIONS_AT_LEAST = {"serverlesspresso": 1, "fulfillment": 0}


@pytest.fixture
def stack(project_stack):
    """Every property below is checked for every stack of every project."""
    return project_stack


def _policies(run):
    for resource in run.resources:
        key = POLICY_INPUTS.get(resource.type)
        if key:
            yield resource, json.loads(resource.inputs[key])


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


def test_no_policy_grants_star_except_the_documented_aws_mandated_actions(program_run, stack):
    checked = 0
    for resource, document in _policies(program_run(stack)):
        for statement in document["Statement"]:
            actions = _as_list(statement["Action"])
            assert not any(a.endswith(":*") or a == "*" for a in actions), (resource.name, actions)
            if "*" in _as_list(statement.get("Resource", [])):
                unlisted = [a for a in actions if a not in AWS_MANDATED_WILDCARDS]
                assert unlisted == [], f"{resource.name} grants {unlisted} on '*'"
            checked += 1
    assert checked > 0


def test_resource_policies_admit_one_source_only(program_run, stack):
    for resource, document in _policies(program_run(stack)):
        if resource.type == "aws:iam/rolePolicy:RolePolicy":
            continue
        for statement in document["Statement"]:
            assert statement["Condition"]["ArnEquals"]["aws:SourceArn"].startswith("arn:aws:"), resource.name


def test_every_physical_name_we_choose_is_scoped_to_the_stack(program_run, stack):
    for resource in program_run(stack).resources:
        if resource.type in NAMED_INSIDE_A_STACK_RESOURCE:
            continue
        for key in EXPLICIT_NAME_INPUTS:
            value = resource.inputs.get(key)
            if value:
                assert f"{stack.project}-{stack}" in value, f"{resource.urn} hard-codes {key}={value!r}"


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


def test_every_rule_target_retries_and_dead_letters(program_run, stack):
    targets = program_run(stack).of_type("aws:cloudwatch/eventTarget:EventTarget")
    assert targets
    for target in targets:
        assert target.inputs["retryPolicy"]["maximumRetryAttempts"] >= 0, target.name
        assert target.inputs["deadLetterConfig"]["arn"].startswith("arn:aws:sqs:"), target.name


def test_every_function_retries_async_failures_into_a_dead_letter_queue(program_run, stack):
    run = program_run(stack)
    functions = run.of_type("aws:lambda/function:Function")
    configs = {
        c.inputs["functionName"]: c
        for c in run.of_type("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig")
    }
    for function in functions:
        invoke_config = configs[function.state["name"]]
        assert invoke_config.inputs["destinationConfig"]["onFailure"]["destination"].startswith(
            "arn:aws:sqs:"
        )
        assert function.inputs["loggingConfig"]["logGroup"], function.name


def test_every_queue_is_encrypted(program_run, stack):
    for queue in program_run(stack).of_type("aws:sqs/queue:Queue"):
        assert queue.inputs.get("sqsManagedSseEnabled") is True, queue.name


def test_every_table_is_encrypted_at_rest(program_run, stack):
    for table in program_run(stack).of_type("aws:dynamodb/table:Table"):
        assert table.inputs["serverSideEncryption"] == {"enabled": True}, table.name


def test_seed_items_can_never_be_rewritten_by_a_later_update(program_run, stack):
    items = program_run(stack).of_type("aws:dynamodb/tableItem:TableItem")
    assert {i.name for i in items} >= SEED_ITEMS[stack.project]
    for item in items:
        assert "item" in item.ignore_changes, f"{item.name} would be reset by the next pulumi up"


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


def test_every_api_method_requires_a_cognito_token_unless_it_is_a_documented_public_route(program_run, stack):
    paths = _api_paths(program_run(stack))
    assert len(paths) >= API_PATHS_AT_LEAST[stack.project]
    for (_, path), by_method in paths.items():
        for verb, method in by_method.items():
            if verb == "OPTIONS" or (verb, path.strip("/")) in PUBLIC_ROUTES[stack.project]:
                continue
            assert method.inputs["authorization"] == "COGNITO_USER_POOLS", (verb, path)
            assert method.inputs["authorizerId"], (verb, path)
            assert method.inputs["authorizationScopes"], (verb, path)


def test_every_api_path_answers_the_cors_preflight_without_a_token(program_run, stack):
    run = program_run(stack)
    mocks = {
        (i.inputs["restApi"], i.inputs["resourceId"])
        for i in run.of_type("aws:apigateway/integration:Integration")
        if i.inputs["httpMethod"] == "OPTIONS" and i.inputs["type"] == "MOCK"
    }
    for (api, path), by_method in _api_paths(run).items():
        assert "OPTIONS" in by_method, path
        preflight = by_method["OPTIONS"]
        assert preflight.inputs["authorization"] == "NONE", path
        assert (api, preflight.inputs["resourceId"]) in mocks, path


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
# Checked for the shop's stacks; the order fulfillment still creates its topic with the AWS-managed key.


def _shop_stacks():
    from localcloud import program

    return program.stack_names()


def _allows(statement, principal_service, action):
    principals = statement.get("Principal", {})
    services = _as_list(principals.get("Service", [])) if isinstance(principals, dict) else []
    actions = _as_list(statement["Action"])
    granted = any(a == action or (a.endswith("*") and action.startswith(a[:-1])) for a in actions)
    return statement["Effect"] == "Allow" and principal_service in services and granted


@pytest.mark.parametrize("shop_stack", _shop_stacks())
def test_every_alarm_topic_can_be_published_to_by_cloudwatch_under_its_key_policy(program_run, shop_stack):
    run = program_run(shop_stack)
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


@pytest.mark.parametrize("shop_stack", _shop_stacks())
def test_every_function_and_workflow_raises_alarms_on_the_alarm_topic(program_run, shop_stack):
    run = program_run(shop_stack)
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
