"""The real program materialised into moto: what `pulumi up` would create, and what a second `up` changes."""

from __future__ import annotations

import json

import boto3
import pytest

from localcloud import program
from localcloud.cloud import LocalCloud

REGION = program.stack_config("local")["aws:region"]


@pytest.fixture(scope="module")
def cloud():
    with LocalCloud.running("local") as running:
        yield running


def client(service):
    return boto3.client(service, region_name=REGION)


def test_bus_and_rules_exist_with_the_programs_patterns(cloud):
    events = client("events")
    bus = cloud.outputs["eventBusName"]
    assert events.describe_event_bus(Name=bus)["Arn"] == cloud.outputs["eventBusArn"]
    patterns = [json.loads(rule["EventPattern"]) for rule in events.list_rules(EventBusName=bus)["Rules"]]
    named = [dt for pattern in patterns for dt in pattern.get("detail-type", [])]
    detail_types = {dt for dt in named if isinstance(dt, str)}  # publishers' rules match by prefix
    assert {
        "Validator.NewOrder",
        "OrderProcessor.WorkflowStarted",
        "OrderManager.WaitingCompletion",
    } <= detail_types


def test_tables_hold_the_seed_items_written_at_creation(cloud):
    config_item = cloud.table("shop-data-config").get_item(Key={"PK": "config"})["Item"]
    menu = cloud.table("shop-data-config").get_item(Key={"PK": "menu"})["Item"]
    assert config_item["storeOpen"] is True
    assert "Cappuccino" in {drink["drink"] for drink in menu["value"]}
    assert cloud.table("shop-data-counting").scan()["Items"] == []  # each day's first order counts from 1


def test_order_table_has_the_indexes_the_apps_query(cloud):
    table = client("dynamodb").describe_table(TableName=cloud.outputs["orderTableName"])["Table"]
    assert {index["IndexName"] for index in table["GlobalSecondaryIndexes"]} == {"GSI-status", "GSI-userId"}
    assert [index["IndexName"] for index in table["LocalSecondaryIndexes"]] == ["LSI-timestamp"]
    config_table = client("dynamodb").describe_table(TableName=cloud.outputs["configTableName"])["Table"]
    assert config_table["StreamSpecification"]["StreamEnabled"] is True


def test_state_machines_get_the_rendered_definitions_with_real_names(cloud):
    sfn = client("stepfunctions")
    processor = sfn.describe_state_machine(stateMachineArn=cloud.outputs["orderProcessorArn"])
    manager = sfn.describe_state_machine(stateMachineArn=cloud.outputs["orderManagerArn"])
    assert (processor["type"], manager["type"]) == ("STANDARD", "EXPRESS")
    assert cloud.outputs["configTableName"] in processor["definition"]
    assert "${" not in processor["definition"] + manager["definition"]


def test_functions_get_their_environment_and_the_consumer_its_queue(cloud):
    lam = client("lambda")
    name = cloud.function_name("waiting-completion")
    variables = lam.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    assert variables["ORDER_TABLE_NAME"] == cloud.outputs["orderTableName"]
    assert variables["EVENT_BUS_NAME"] == cloud.outputs["eventBusName"]
    queue_arn = client("sqs").get_queue_attributes(
        QueueUrl=cloud.outputs["metricsQueueUrl"], AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    mappings = lam.list_event_source_mappings(EventSourceArn=queue_arn)["EventSourceMappings"]
    assert [m["FunctionArn"].split(":")[-1] for m in mappings] == [cloud.function_name("metrics-consumer")]


def test_nothing_in_the_program_is_left_unsupported(cloud):
    assert cloud.summary.unsupported == []
    assert cloud.summary.count("created") == len(cloud.state.resources)
