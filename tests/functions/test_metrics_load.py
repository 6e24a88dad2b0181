"""Acceptance #17 offline: the 500-event load test, through bus → rule → queue → consumer, counted exactly."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import pytest
from metrics_helpers import (
    REGION,
    aggregates,
    create_metrics_table,
    emf_documents,
    emf_sums,
    failed_ids,
    recording_api_calls,
    speed_up_bulk_delivery,
    sqs_batch_from_messages,
)

SOURCE = "awsserverlessda.serverlesspresso"
NAMESPACE = "ServerlesspressoLoad"


@pytest.fixture
def api_calls(monkeypatch):
    yield from recording_api_calls(monkeypatch)


@pytest.fixture
def pipeline(mocked_aws, monkeypatch):
    """Bus, OrderMetrics-style rule and the queue it feeds, as the MetricsPipeline wires them."""
    speed_up_bulk_delivery()
    events = boto3.client("events", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    events.create_event_bus(Name="presso")
    queue_url = sqs.create_queue(QueueName="metrics", Attributes={"VisibilityTimeout": "180"})["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    pattern = {"source": [SOURCE], "detail-type": ["OrderManager.WaitingCompletion"]}
    events.put_rule(Name="order-metrics", EventBusName="presso", EventPattern=json.dumps(pattern))
    events.put_targets(
        Rule="order-metrics", EventBusName="presso", Targets=[{"Id": "queue", "Arn": queue_arn}]
    )
    return {"bus": "presso", "queue_url": queue_url, "table": create_metrics_table()}


def drain(queue_url, consumer, context) -> list[str]:
    """Feed the queue to the consumer ten at a time and delete what it did not report, like the event
    source mapping; returns the message ids it reported as failed."""
    sqs = boto3.client("sqs", region_name=REGION)
    failures: list[str] = []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        failed = set(failed_ids(consumer(sqs_batch_from_messages(messages), context)))
        failures.extend(failed)
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
    return failures


def test_the_500_event_load_test_is_counted_exactly_once_end_to_end(
    pipeline, load_function, lambda_context, api_calls, capsys
):
    load_test = load_function("events_load_test", {"EVENT_BUS_NAME": pipeline["bus"], "EVENT_SOURCE": SOURCE})
    consumer = load_function(
        "publish_metrics",
        {
            "METRICS_TABLE_NAME": pipeline["table"],
            "METRICS_SINKS": "dynamodb,cloudwatch",
            "POWERTOOLS_METRICS_NAMESPACE": NAMESPACE,
        },
    )

    report = load_test({}, lambda_context)
    failures = drain(pipeline["queue_url"], consumer, lambda_context)

    day = datetime.now(UTC).date().isoformat()
    counts = aggregates(pipeline["table"])
    drinks = {sk.split("#", 1)[1]: val for sk, val in counts.items() if sk != f"{day}#TotalSales"}
    assert failures == []
    assert report["sent"] == 500
    assert counts[f"{day}#TotalSales"] == 500
    assert sum(drinks.values()) == 500
    assert drinks == report["perDrink"]
    assert set(drinks) == {"Latte", "Cappuccino", "Espresso"}
    sums = emf_sums(emf_documents(capsys.readouterr().out), NAMESPACE, "DrinkOrders", "Drink")
    assert sums == {**report["perDrink"], "Total Orders": 500}
    assert api_calls.count("PutMetricData") == 0


def test_running_the_drain_again_after_redelivery_adds_nothing(pipeline, load_function, lambda_context):
    load_test = load_function("events_load_test", {"EVENT_BUS_NAME": pipeline["bus"], "EVENT_SOURCE": SOURCE})
    consumer = load_function(
        "publish_metrics", {"METRICS_TABLE_NAME": pipeline["table"], "METRICS_SINKS": "dynamodb"}
    )
    sqs = boto3.client("sqs", region_name=REGION)
    load_test({"count": 30}, lambda_context)

    # Every message is delivered twice: once without being deleted (a lost acknowledgement), then for good.
    first_pass = []
    while messages := sqs.receive_message(QueueUrl=pipeline["queue_url"], MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        consumer(sqs_batch_from_messages(messages), lambda_context)
        first_pass.extend(messages)
    for message in first_pass:
        sqs.change_message_visibility(
            QueueUrl=pipeline["queue_url"], ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    assert drain(pipeline["queue_url"], consumer, lambda_context) == []

    day = datetime.now(UTC).date().isoformat()
    assert len(first_pass) == 30
    assert aggregates(pipeline["table"])[f"{day}#TotalSales"] == 30
