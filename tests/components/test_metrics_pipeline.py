"""MetricsPipeline wiring under mocks: rule → queue (policy for this rule only) → consumer, sinks, alarms."""

from __future__ import annotations

import json
import runpy

from components.metrics_pipeline import DIMENSION, METRIC_NAME, dashboard_body
from localcloud import program

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def run_with(**settings):
    return program.run("dev", config={f"serverlesspresso:{k}": v for k, v in settings.items()})


def test_sales_rule_feeds_the_queue_and_only_that_rule_may_write_to_it(program_run):
    run = program_run("dev")
    rule = run.named("metrics-rule", "aws:cloudwatch/eventRule:EventRule")
    assert json.loads(rule.inputs["eventPattern"]) == {
        "detail-type": ["OrderManager.WaitingCompletion"],
        "source": ["awsserverlessda.serverlesspresso"],
    }
    queue = run.named("metrics-queue")
    assert (
        run.named("metrics-rule-queue", "aws:cloudwatch/eventTarget:EventTarget").inputs["arn"]
        == queue.state["arn"]
    )
    [statement] = json.loads(run.named("metrics-rule-queue-policy").inputs["policy"])["Statement"]
    assert statement["Resource"] == queue.state["arn"]
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": rule.state["arn"]}}
    assert run.named("metrics-rule-queue-policy").inputs["queueUrl"] == queue.state["url"]


def test_queue_is_encrypted_long_polled_dead_lettered_and_outlasts_the_consumer(program_run):
    run = program_run("dev")
    queue = run.named("metrics-queue").inputs
    consumer = run.named("metrics-consumer", "aws:lambda/function:Function").inputs
    assert queue["sqsManagedSseEnabled"] is True
    assert queue["receiveWaitTimeSeconds"] > 0
    assert queue["visibilityTimeoutSeconds"] >= 6 * consumer["timeout"]
    redrive = json.loads(queue["redrivePolicy"])
    assert redrive == {"deadLetterTargetArn": run.named("metrics-dlq").state["arn"], "maxReceiveCount": 5}


def test_consumer_reads_batches_and_reports_partial_failures():
    run = run_with(metricsBatchSize="25", metricsBatchWindowSeconds="12", metricsReservedConcurrency="2")
    mapping = run.named("metrics-consumer-source").inputs
    assert mapping["eventSourceArn"] == run.named("metrics-queue").state["arn"]
    assert (
        mapping["functionName"] == run.named("metrics-consumer", "aws:lambda/function:Function").state["arn"]
    )
    assert (mapping["batchSize"], mapping["maximumBatchingWindowInSeconds"]) == (25, 12)
    assert mapping["functionResponseTypes"] == ["ReportBatchItemFailures"]
    consumer = run.named("metrics-consumer", "aws:lambda/function:Function").inputs
    assert consumer["reservedConcurrentExecutions"] == 2


def test_the_queue_is_never_polled_with_more_batches_than_the_consumer_reserves():
    run = run_with(metricsReservedConcurrency="3")
    mapping = run.named("metrics-consumer-source").inputs
    consumer = run.named("metrics-consumer", "aws:lambda/function:Function").inputs
    assert mapping["scalingConfig"] == {"maximumConcurrency": 3}
    assert consumer["reservedConcurrentExecutions"] == 3


def test_consumer_may_only_drain_its_queue_and_write_its_table(program_run):
    run = program_run("dev")
    statements = json.loads(run.named("metrics-consumer-policy").inputs["policy"])["Statement"]
    resources = {action: s["Resource"] for s in statements for action in s["Action"]}
    queue_arn = run.named("metrics-queue").state["arn"]
    table_arn = run.named("metrics-table", "aws:dynamodb/table:Table").state["arn"]
    assert resources["sqs:ReceiveMessage"] == [queue_arn] and resources["sqs:DeleteMessage"] == [queue_arn]
    assert resources["dynamodb:UpdateItem"] == [table_arn] and resources["dynamodb:PutItem"] == [table_arn]
    assert "cloudwatch:PutMetricData" not in resources


def test_both_sinks_get_the_table_namespace_and_a_dashboard_for_the_stack_region(program_run):
    run = program_run("dev")
    variables = run.named("metrics-consumer", "aws:lambda/function:Function").inputs["environment"][
        "variables"
    ]
    assert variables["METRICS_SINKS"] == "dynamodb,cloudwatch"
    assert variables["METRICS_TABLE_NAME"] == run.outputs["metricsTableName"]
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "Serverlesspresso"
    [dashboard] = run.of_type("aws:cloudwatch/dashboard:Dashboard")
    widget = json.loads(dashboard.inputs["dashboardBody"])["widgets"][0]["properties"]
    assert widget["region"] == run.outputs["region"] == "eu-west-1"
    seeded = json.loads(run.named("shop-data-seed-menu").inputs["item"])["value"]["L"]
    menu = [drink["M"]["drink"]["S"] for drink in seeded]
    assert widget["metrics"] == [
        ["Serverlesspresso", "DrinkOrders", "Drink", d] for d in [*menu, "Total Orders"]
    ]
    assert len(menu) == 6  # every drink sold is shown, not the first three
    assert widget["stat"] == "Sum" and widget["setPeriodToTimeRange"] is True


def test_dynamodb_only_stack_has_no_dashboard():
    run = run_with(metricsSinks='["dynamodb"]')
    assert run.of_type("aws:cloudwatch/dashboard:Dashboard") == []
    variables = run.named("metrics-consumer", "aws:lambda/function:Function").inputs["environment"][
        "variables"
    ]
    assert variables["METRICS_SINKS"] == "dynamodb"


def test_cloudwatch_only_stack_keeps_the_table_as_the_dedupe_store_and_names_its_namespace():
    run = run_with(metricsSinks='["cloudwatch"]', metricsNamespace="CoffeeDev")
    variables = run.named("metrics-consumer", "aws:lambda/function:Function").inputs["environment"][
        "variables"
    ]
    assert variables["METRICS_SINKS"] == "cloudwatch"
    assert variables["METRICS_TABLE_NAME"]
    [dashboard] = run.of_type("aws:cloudwatch/dashboard:Dashboard")
    assert "CoffeeDev" in dashboard.inputs["dashboardBody"]


def test_provisioned_metrics_table_takes_its_capacity_from_config():
    run = run_with(metricsTableBillingMode="PROVISIONED", metricsTableWriteCapacity="8")
    metrics_table = run.named("metrics-table", "aws:dynamodb/table:Table").inputs
    assert metrics_table["billingMode"] == "PROVISIONED"
    assert (metrics_table["readCapacity"], metrics_table["writeCapacity"]) == (5, 8)


def test_dead_letters_and_consumer_errors_raise_alarms_on_a_created_topic(program_run):
    run = program_run("dev")
    alarms = {a.name: a.inputs for a in run.of_type(ALARM)}
    topic = run.outputs["alarmTopicArn"]
    assert alarms["metrics-dlq-not-empty"]["dimensions"] == {
        "QueueName": run.named("metrics-dlq").state["name"]
    }
    assert alarms["metrics-rule-queue-dlq-not-empty"]["dimensions"] == {
        "QueueName": run.named("metrics-rule-queue-dlq").state["name"]
    }
    assert alarms["metrics-consumer-errors"]["dimensions"] == {
        "FunctionName": run.named("metrics-consumer", "aws:lambda/function:Function").state["name"]
    }
    for alarm in alarms.values():
        assert alarm["threshold"] == 0 and alarm["comparisonOperator"] == "GreaterThanThreshold"
        assert alarm["alarmActions"] == [topic]


def test_alarms_go_to_the_configured_topic_when_one_is_given():
    topic = "arn:aws:sns:eu-west-1:123456789012:on-call"
    run = run_with(alarmTopicArn=topic)
    assert run.of_type("aws:sns/topic:Topic") == []
    assert all(a.inputs["alarmActions"] == [topic] for a in run.of_type(ALARM))


def test_load_test_may_only_put_events_on_the_stacks_bus(program_run):
    run = program_run("dev")
    statements = json.loads(run.named("metrics-load-test-policy").inputs["policy"])["Statement"]
    assert {
        "Effect": "Allow",
        "Action": ["events:PutEvents"],
        "Resource": [run.outputs["eventBusArn"]],
    } in statements
    variables = run.named("metrics-load-test", "aws:lambda/function:Function").inputs["environment"][
        "variables"
    ]
    assert variables["EVENT_BUS_NAME"] == run.outputs["eventBusName"]


def test_dashboard_body_sums_over_the_time_range_in_the_given_region():
    body = json.loads(dashboard_body("Ns", "ap-south-1", ["Latte"]))
    properties = body["widgets"][0]["properties"]
    assert properties["region"] == "ap-south-1"
    assert properties["metrics"] == [["Ns", "DrinkOrders", "Drink", "Latte"]]


def test_dashboard_shows_the_metric_the_consumer_emits():
    consumer_rules = runpy.run_path(
        str(program.REPO_ROOT / "functions" / "publish_metrics" / "aggregates.py")
    )
    assert (consumer_rules["METRIC_NAME"], consumer_rules["DRINK_DIMENSION"]) == (METRIC_NAME, DIMENSION)
