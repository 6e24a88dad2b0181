"""The order-fulfillment program (fulfillment/__main__.py) under mocks, for every stack of that project:
the four rules of SYSTEM §9 with their exact patterns, the Producer API, the partner's API destination
and its secret key, the workflow, the ProcessedOrder function and the OrderDetails table."""

from __future__ import annotations

import json

import pytest
from pulumi.runtime.rpc import is_rpc_secret, unwrap_rpc_secret
from statelint.linter import Linter

from localcloud import program
from tests.conftest import TEST_SECRETS, ProjectStack, every_project_stack

FULFILLMENT_STACKS = [s for s in every_project_stack() if s.project == "fulfillment"]
SOURCE = "com.aws.orders"
API_KEY = TEST_SECRETS["fulfillment"]["fulfillment:usOrdersApiKey"]
FUNCTION = "aws:lambda/function:Function"


@pytest.fixture(params=FULFILLMENT_STACKS, ids=repr)
def run(request, program_run):
    return program_run(request.param)


def pattern(run, rule):
    return json.loads(run.named(rule, "aws:cloudwatch/eventRule:EventRule").inputs["eventPattern"])


def grants(run, policy):
    statements = json.loads(run.named(policy).inputs["policy"])["Statement"]
    return {action: s["Resource"] for s in statements for action in s["Action"]}


def test_the_project_has_stacks_and_they_are_not_the_shop():
    assert {s for s in FULFILLMENT_STACKS} >= {"dev", "local"}
    assert program.project_name(program.project_dir("fulfillment")) == "fulfillment"


def test_the_four_rules_have_the_patterns_of_the_spec(run):
    assert pattern(run, "orders-log-all") == {"source": [SOURCE]}
    assert pattern(run, "us-orders-to-api") == {
        "source": [SOURCE],
        "detail-type": ["Order Notification"],
        "detail": {"location": [{"prefix": "us-"}]},
    }
    assert pattern(run, "eu-orders-to-workflow") == {
        "source": [SOURCE],
        "detail-type": ["Order Notification"],
        "detail": {"location": ["eu-west"]},
    }
    assert pattern(run, "processed-orders-to-function") == {
        "source": [SOURCE],
        "detail-type": ["Order Processed"],
    }
    assert len(run.of_type("aws:cloudwatch/eventRule:EventRule")) == 4


def test_each_rule_targets_its_box_of_the_diagram(run):
    targets = {t.name: t.inputs["arn"] for t in run.of_type("aws:cloudwatch/eventTarget:EventTarget")}
    assert targets["orders-log-all-logs"] == run.named("orders-all-events").state["arn"]
    assert (
        targets["us-orders-to-api-partner"] == run.named("us-orders-to-api-partner-destination").state["arn"]
    )
    assert targets["eu-orders-to-workflow-workflow"] == run.outputs["orderWorkflowArn"]
    assert (
        targets["processed-orders-to-function-store"] == run.named("processed-order", FUNCTION).state["arn"]
    )


def test_the_partner_is_called_with_post_and_an_api_key_from_the_secret(run):
    stack = run.stack
    values = program.stack_config(stack, program.project_dir("fulfillment"))
    destination = run.named("us-orders-to-api-partner-destination").inputs
    assert destination["httpMethod"] == "POST"
    assert destination["invocationEndpoint"] == values["fulfillment:usOrdersEndpoint"]
    connection = run.named("us-orders-to-api-partner-connection")
    assert destination["connectionArn"] == connection.state["arn"]
    assert connection.inputs["authorizationType"] == "API_KEY"
    auth = connection.inputs["authParameters"]
    assert is_rpc_secret(auth), "the API key reached the connection as plain text"
    assert unwrap_rpc_secret(auth)["apiKey"] == {
        "key": values["fulfillment:usOrdersApiKeyHeader"],
        "value": API_KEY,
    }


def test_the_api_key_is_in_no_output_and_no_other_resource(run):
    assert API_KEY not in json.dumps(run.outputs, default=str)
    holders = [r.name for r in run.resources if API_KEY in json.dumps(r.inputs, default=str)]
    assert holders == ["us-orders-to-api-partner-connection"]


def test_the_partner_target_may_only_invoke_its_destination_and_dead_letters_with_an_alarm(run):
    target = run.named("us-orders-to-api-partner", "aws:cloudwatch/eventTarget:EventTarget")
    role = run.named("us-orders-to-api-partner-role")
    assert target.inputs["roleArn"] == role.state["arn"]
    assert grants(run, "us-orders-to-api-partner-policy") == {
        "events:InvokeApiDestination": [target.inputs["arn"]]
    }
    dlq = run.named("us-orders-to-api-partner-dlq")
    assert target.inputs["deadLetterConfig"]["arn"] == dlq.state["arn"]
    [alarm] = [
        a
        for a in run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
        if a.inputs["dimensions"] == {"QueueName": dlq.state["name"]}
    ]
    assert alarm.inputs["alarmActions"] == [run.outputs["alarmTopicArn"]]


def test_the_functions_may_write_only_where_they_must(run):
    bus, table = run.outputs["eventBusArn"], run.named("order-details").state["arn"]
    produce = grants(run, "produce-order-policy")
    assert produce["events:PutEvents"] == [bus]
    assert not any(action.startswith("dynamodb:") for action in produce)
    processed = grants(run, "processed-order-policy")
    assert processed["dynamodb:PutItem"] == [table]
    assert processed["events:PutEvents"] == [bus]
    assert {a for a in processed if a.startswith(("dynamodb:", "events:"))} == {
        "dynamodb:PutItem",
        "events:PutEvents",
    }
    environment = run.named("processed-order", FUNCTION).inputs["environment"]["variables"]
    assert environment["ORDER_TABLE_NAME"] == run.outputs["orderDetailsTableName"]
    assert environment["EVENT_BUS_NAME"] == run.outputs["eventBusName"]


def test_the_producer_api_is_an_open_get_on_the_root_of_stage_dev_proxied_to_produce_order(run):
    [stage] = run.of_type("aws:apigateway/stage:Stage")
    assert stage.inputs["stageName"] == "dev"
    assert run.outputs["orderApiEndpoint"].endswith("/dev/")
    [get] = [m for m in run.of_type("aws:apigateway/method:Method") if m.inputs["httpMethod"] == "GET"]
    assert (
        get.inputs["resourceId"]
        == run.named("producer-api", "aws:apigateway/restApi:RestApi").state["rootResourceId"]
    )
    assert get.inputs["authorization"] == "NONE"
    [proxy] = [
        i for i in run.of_type("aws:apigateway/integration:Integration") if i.inputs["type"] == "AWS_PROXY"
    ]
    assert proxy.inputs["uri"] == run.named("produce-order", FUNCTION).state["invokeArn"]


def test_the_workflow_is_pass_then_emit_order_processed_on_this_bus_and_lint_clean(run):
    definition = json.loads(
        run.named("order-fulfillment", "aws:sfn/stateMachine:StateMachine").inputs["definition"]
    )
    assert Linter.validate(definition) == []
    assert definition["StartAt"] == "Pass"
    assert definition["States"]["Pass"]["Next"] == "Emit Order Processed"
    [entry] = definition["States"]["Emit Order Processed"]["Parameters"]["Entries"]
    assert entry["EventBusName"] == run.outputs["eventBusName"]
    assert (entry["Source"], entry["DetailType"]) == (SOURCE, "Order Processed")
    assert entry["Detail"] == {"OrderId": "new_id", "OrderDetails.$": "$.detail"}
    assert grants(run, "order-fulfillment-policy")["events:PutEvents"] == [run.outputs["eventBusArn"]]


def test_order_details_is_keyed_by_order_id_on_demand(run):
    table = run.named("order-details")
    assert (table.inputs["hashKey"], table.inputs.get("rangeKey")) == ("orderId", None)
    assert table.inputs["attributes"] == [{"name": "orderId", "type": "S"}]
    assert table.inputs["billingMode"] == "PAY_PER_REQUEST"


def test_outputs_name_what_a_client_of_the_system_needs(run):
    assert {"orderApiEndpoint", "eventBusName", "orderDetailsTableName", "allEventsLogGroup"} <= set(
        run.outputs
    )
    assert run.outputs["allEventsLogGroup"].startswith(f"/aws/events/fulfillment-{run.stack}-")


def test_the_one_owner_of_the_account_setting_lets_api_gateway_write_both_projects_access_logs(program_run):
    """AWS holds one API Gateway logging role per account and region: the shop's dev stack sets it, and the
    fulfillment's dev stack in the same account declares none and relies on it, so neither a later
    `pulumi up` nor a `pulumi destroy` of the fulfillment can take it from the shop."""
    shop, fulfillment = (
        program_run(ProjectStack("dev", "serverlesspresso")),
        program_run(ProjectStack("dev", "fulfillment")),
    )
    assert len(shop.of_type(ACCOUNT)) == 1 and fulfillment.of_type(ACCOUNT) == []
    assert fulfillment.of_type("aws:iam/role:Role") and not [
        role
        for role in fulfillment.of_type("aws:iam/role:Role")
        if role.name.startswith("api-gateway-account")
    ]
    resources = json.loads(shop.named("api-gateway-account-policy").inputs["policy"])["Statement"][0][
        "Resource"
    ]
    assert any(":log-group:/aws/apigateway/serverlesspresso-*" in arn for arn in resources)
    assert any(":log-group:/aws/apigateway/fulfillment-*" in arn for arn in resources)


def test_every_environment_has_exactly_one_owner_of_the_account_setting(program_run):
    """Stacks of one name (dev, staging, prod) share an account; each local stack is its own emulator."""
    owners: dict[str, list[str]] = {}
    for stack in every_project_stack():
        account = f"{stack} ({stack.project})" if stack == "local" else str(stack)
        owns = bool(program_run(stack).of_type(ACCOUNT))
        owners.setdefault(account, []).extend([stack.project] if owns else [])
    assert all(len(projects) == 1 for projects in owners.values()), owners


ACCOUNT = "aws:apigateway/account:Account"


def test_a_stack_without_the_partner_key_is_refused_with_the_command_that_sets_it():
    with pytest.raises(Exception, match=r"usOrdersApiKey") as refused:
        program.run("dev", repo=program.project_dir("fulfillment"))
    assert "--secret" in str(refused.value)
