"""The deployed program runs: events start workflows, functions keep the tables, EMF becomes metrics."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys

import boto3
import pytest

from localcloud import program
from localcloud.cloud import LocalCloud

REGION = program.stack_config("local")["aws:region"]
CAPPUCCINO = {
    "userId": "1",
    "drink": "Cappuccino",
    "modifiers": [],
    "icon": "barista-icons_cappuccino-alternative",
}


@pytest.fixture(scope="module")
def cloud():
    with LocalCloud.running("local") as running:
        yield running


@pytest.fixture(scope="module")
def journey(cloud):
    """One order taken past the customer step (a Cappuccino), once per module: what the tests below read
    from the tables, metrics, logs and usage, whichever of them runs (alone or first)."""
    cloud.put_event("Validator.NewOrder", {"userId": "2", "orderId": "200"})
    cloud.settle()
    body = {**CAPPUCCINO, "userId": "2"}
    answer = cloud.order_manager({"action": "", "body": body, "orderId": "200", "baristaUserId": "3"})
    cloud.settle()
    return answer


def running_executions(cloud):
    sfn = boto3.client("stepfunctions", region_name=REGION)
    return sfn.list_executions(stateMachineArn=cloud.outputs["orderProcessorArn"], statusFilter="RUNNING")[
        "executions"
    ]


def test_new_order_event_parks_a_workflow_and_records_the_created_order(cloud):
    cloud.put_event("Validator.NewOrder", {"userId": "1", "orderId": "100"})
    cloud.settle()

    order = cloud.table("shop-data-orders").get_item(Key={"PK": "orders", "SK": "100"})["Item"]
    assert order["ORDERSTATE"] == "CREATED"
    assert order["USERID"] == "1"
    assert order["TaskToken"]
    assert "orderNumber" not in order
    assert len(running_executions(cloud)) >= 1


def test_a_chosen_drink_is_counted_in_the_table_and_on_the_dashboards_metrics_from_emf(cloud, journey):
    assert journey["status"] == "SUCCEEDED"
    aggregates = cloud.table("metrics-table").scan()["Items"]
    assert any(item["SK"].endswith("#Cappuccino") and item["val"] == 1 for item in aggregates)
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    dashboard = json.loads(
        cloudwatch.get_dashboard(DashboardName=cloud.outputs["dashboardName"])["DashboardBody"]
    )
    shown = {row[3]: row for widget in dashboard["widgets"] for row in widget["properties"]["metrics"]}
    now = datetime.datetime.now(tz=datetime.UTC)
    for drink in ("Cappuccino", "Total Orders"):
        namespace, metric, dimension, value = shown[drink]
        statistics = cloudwatch.get_metric_statistics(
            Namespace=namespace,
            MetricName=metric,
            Dimensions=[{"Name": dimension, "Value": value}],
            StartTime=now - datetime.timedelta(hours=1),
            EndTime=now + datetime.timedelta(minutes=5),
            Period=3600,
            Statistics=["Sum"],
        )["Datapoints"]
        assert sum(point["Sum"] for point in statistics) == 1
    assert cloud.usage["cloudwatch"]["put_metric_data_calls"] == 0
    assert cloud.usage["emf"]["documents"] >= 1


def test_function_output_lands_in_its_log_group(cloud, journey):
    consumer_group = cloud.state.named("metrics-consumer-logs").id
    events = boto3.client("logs", region_name=REGION).filter_log_events(logGroupName=consumer_group)["events"]
    messages = [event["message"] for event in events]
    assert any(message.startswith("START RequestId:") for message in messages)
    assert any('"CloudWatchMetrics"' in message for message in messages)


def test_usage_counts_what_the_journey_used(cloud, journey):
    used = cloud.usage
    assert used["lambda"][cloud.function_name("workflow-started")]["requests"] >= 1
    assert used["eventbridge"]["events_put"] >= 1
    assert used["stepfunctions"]["express_requests"] >= 1
    assert used["stepfunctions"]["standard_state_transitions"] > used["stepfunctions"]["standard_executions"]
    assert used["dynamodb"]["total_write_units"] >= 1
    assert used["logs"]["ingested_bytes"] > 0
    assert used["pollers"][cloud.outputs["metricsQueueUrl"].rsplit("/", 1)[-1]]["peak_concurrency"] == 1


def test_up_command_prints_the_deploy_summary_without_a_terminal():
    result = subprocess.run(
        [sys.executable, "-m", "localcloud", "up", "--stack", "local"],
        cwd=program.REPO_ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "CI": "true"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "aws:sfn/stateMachine:StateMachine" in result.stdout
    assert json.dumps("eventBusName").strip('"') in result.stdout
    assert "unsupported" not in result.stdout.lower()
