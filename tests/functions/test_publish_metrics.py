"""PublishMetrics: daily drink aggregates and CloudWatch counts from the metrics queue, each sale once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

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
    sqs_batch,
    sqs_record,
)

from localcloud.emulator.lambda_runtime import load_module

NAMESPACE = "ServerlesspressoTest"
SALE = "OrderManager.WaitingCompletion"
FUNCTION_DIR = Path(__file__).resolve().parents[2] / "functions" / "publish_metrics"


@pytest.fixture(scope="module")
def rules():
    """The pure counting module of the function, imported without AWS."""
    return load_module(FUNCTION_DIR, "aggregates")


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def drink_detail(drink: str, order_id: str = "1") -> dict:
    return {
        "orderId": order_id,
        "orderNumber": "1",
        "state": "CREATED",
        "drinkOrder": {"userId": "1", "drink": drink, "modifiers": [], "icon": "barista-icons_cafe-latte"},
        "userId": "1",
        "robot": False,
        "TS": 0,
        "Message": "test",
    }


@pytest.fixture
def api_calls(monkeypatch):
    yield from recording_api_calls(monkeypatch)


@pytest.fixture
def consumer(mocked_aws, load_function, api_calls):
    """Factory: the metrics table plus the handler configured with the given sinks."""

    def build(sinks: str = "dynamodb,cloudwatch"):
        table = create_metrics_table()
        handler = load_function(
            "publish_metrics",
            {"METRICS_TABLE_NAME": table, "METRICS_SINKS": sinks, "POWERTOOLS_METRICS_NAMESPACE": NAMESPACE},
        )
        return table, handler

    return build


def sale_body(eventbridge_event, drink: str, **overrides) -> str:
    return json.dumps({**eventbridge_event(SALE, drink_detail(drink)), **overrides})


def test_one_order_counts_for_the_day_total_and_its_drink(
    consumer, eventbridge_event, lambda_context, capsys
):
    table, handler = consumer()

    response = handler(sqs_batch(sqs_record(sale_body(eventbridge_event, "Cappuccino"))), lambda_context)

    assert response == {"batchItemFailures": []}
    assert aggregates(table) == {f"{today()}#TotalSales": 1, f"{today()}#Cappuccino": 1}
    sums = emf_sums(emf_documents(capsys.readouterr().out), NAMESPACE, "DrinkOrders", "Drink")
    assert sums == {"Cappuccino": 1, "Total Orders": 1}


def test_a_failing_write_fails_only_its_record_and_succeeds_when_redelivered(
    consumer, eventbridge_event, lambda_context, api_calls
):
    table, handler = consumer("dynamodb")
    bodies = [sale_body(eventbridge_event, drink) for drink in ("Latte", "Espresso", "Latte")]
    unlucky_event_id = json.loads(bodies[1])["id"]
    records = [sqs_record(body) for body in bodies]

    def throttle_unlucky_event(operation, params):
        if operation == "TransactWriteItems":
            marker = params["TransactItems"][0]["Put"]["Item"]
            if marker["eventId"]["S"] == unlucky_event_id:
                return "ProvisionedThroughputExceededException"
        return None

    api_calls.fault = throttle_unlucky_event
    response = handler(sqs_batch(*records), lambda_context)

    assert failed_ids(response) == [records[1]["messageId"]]
    assert aggregates(table) == {f"{today()}#TotalSales": 2, f"{today()}#Latte": 2}

    api_calls.fault = None
    assert failed_ids(handler(sqs_batch(records[1]), lambda_context)) == []
    assert aggregates(table) == {f"{today()}#TotalSales": 3, f"{today()}#Latte": 2, f"{today()}#Espresso": 1}


def test_a_body_that_is_not_an_event_is_reported_failed_and_the_rest_counted(
    consumer, eventbridge_event, lambda_context
):
    table, handler = consumer("dynamodb")
    good = sqs_record(sale_body(eventbridge_event, "Latte"))
    not_json = sqs_record("this is not json")
    no_id = sqs_record(json.dumps({"detail-type": SALE, "time": "2024-01-01T00:00:00Z", "detail": {}}))

    response = handler(sqs_batch(not_json, good, no_id), lambda_context)

    assert failed_ids(response) == [not_json["messageId"], no_id["messageId"]]
    assert aggregates(table) == {f"{today()}#TotalSales": 1, f"{today()}#Latte": 1}


def test_the_same_message_delivered_twice_counts_once(consumer, eventbridge_event, lambda_context, capsys):
    table, handler = consumer()
    record = sqs_record(sale_body(eventbridge_event, "Espresso"))

    first = handler(sqs_batch(record), lambda_context)
    second = handler(sqs_batch(record), lambda_context)

    assert first == second == {"batchItemFailures": []}
    assert aggregates(table) == {f"{today()}#TotalSales": 1, f"{today()}#Espresso": 1}
    sums = emf_sums(emf_documents(capsys.readouterr().out), NAMESPACE, "DrinkOrders", "Drink")
    assert sums == {"Espresso": 1, "Total Orders": 1}


def test_two_messages_carrying_the_same_event_id_count_once(consumer, eventbridge_event, lambda_context):
    table, handler = consumer("dynamodb")
    body = sale_body(eventbridge_event, "Latte")

    same_batch = handler(sqs_batch(sqs_record(body), sqs_record(body)), lambda_context)
    later_batch = handler(sqs_batch(sqs_record(body)), lambda_context)

    assert failed_ids(same_batch) == failed_ids(later_batch) == []
    assert aggregates(table) == {f"{today()}#TotalSales": 1, f"{today()}#Latte": 1}


@pytest.mark.parametrize(
    "detail",
    [
        {"orderId": "1", "userId": "1"},
        {"orderId": "1", "drinkOrder": {"userId": "1"}},
        {"orderId": "1", "drinkOrder": {"drink": "  "}},
        {"orderId": "1", "drinkOrder": "not json"},
        {"orderId": "1", "drinkOrder": {"drink": "TotalSales"}},
        {"orderId": "1", "drinkOrder": {"drink": "é" * 200}},
    ],
    ids=["no-drinkOrder", "no-drink", "blank-drink", "unreadable-drinkOrder", "named-as-total", "too-long"],
)
def test_an_order_without_a_usable_drink_is_acknowledged_and_not_counted(
    consumer, eventbridge_event, lambda_context, detail
):
    table, handler = consumer("dynamodb")
    unusable = sqs_record(json.dumps(eventbridge_event(SALE, detail)))
    usable = sqs_record(sale_body(eventbridge_event, "Latte"))

    response = handler(sqs_batch(unusable, usable), lambda_context)

    assert failed_ids(response) == []
    assert aggregates(table) == {f"{today()}#TotalSales": 1, f"{today()}#Latte": 1}


def test_a_drink_order_stored_as_json_text_still_counts(consumer, eventbridge_event, lambda_context):
    table, handler = consumer("dynamodb")
    detail = {**drink_detail("Latte"), "drinkOrder": json.dumps({"userId": "1", "drink": "Latte"})}

    handler(sqs_batch(sqs_record(json.dumps(eventbridge_event(SALE, detail)))), lambda_context)

    assert aggregates(table) == {f"{today()}#TotalSales": 1, f"{today()}#Latte": 1}


def test_an_event_stamped_yesterday_counts_for_yesterday(consumer, eventbridge_event, lambda_context):
    table, handler = consumer("dynamodb")
    yesterday = datetime.now(UTC) - timedelta(days=1)
    body = sale_body(eventbridge_event, "Latte", time=yesterday.strftime("%Y-%m-%dT%H:%M:%SZ"))

    handler(sqs_batch(sqs_record(body)), lambda_context)

    day = yesterday.date().isoformat()
    assert aggregates(table) == {f"{day}#TotalSales": 1, f"{day}#Latte": 1}


def test_dynamodb_only_writes_aggregates_and_prints_no_metrics(
    consumer, eventbridge_event, lambda_context, capsys, api_calls
):
    table, handler = consumer("dynamodb")

    handler(sqs_batch(sqs_record(sale_body(eventbridge_event, "Latte"))), lambda_context)

    assert aggregates(table) == {f"{today()}#TotalSales": 1, f"{today()}#Latte": 1}
    assert emf_documents(capsys.readouterr().out) == []
    assert api_calls.count("PutMetricData") == 0


def test_cloudwatch_only_emits_embedded_metrics_and_writes_no_aggregates(
    consumer, eventbridge_event, lambda_context, capsys, api_calls
):
    table, handler = consumer("cloudwatch")
    drinks = ["Latte", "Latte", "Cappuccino"]
    records = [sqs_record(sale_body(eventbridge_event, drink)) for drink in drinks]

    handler(sqs_batch(*records), lambda_context)
    handler(sqs_batch(records[0]), lambda_context)  # a redelivery must not be counted again

    documents = emf_documents(capsys.readouterr().out)
    assert {
        directive["Namespace"] for doc in documents for directive in doc["_aws"]["CloudWatchMetrics"]
    } == {NAMESPACE}
    assert all("service" not in doc for doc in documents)
    sums = emf_sums(documents, NAMESPACE, "DrinkOrders", "Drink")
    assert sums == {
        "Latte": drinks.count("Latte"),
        "Cappuccino": drinks.count("Cappuccino"),
        "Total Orders": 3,
    }
    assert aggregates(table) == {}
    assert api_calls.count("PutMetricData") == 0
    assert api_calls.count("TransactWriteItems") == 0


def test_both_sinks_agree_and_never_call_put_metric_data(
    consumer, eventbridge_event, lambda_context, capsys, api_calls
):
    table, handler = consumer("dynamodb,cloudwatch")
    drinks = ["Latte", "Espresso", "Espresso", "Cappuccino"]

    handler(sqs_batch(*(sqs_record(sale_body(eventbridge_event, d)) for d in drinks)), lambda_context)

    sums = emf_sums(emf_documents(capsys.readouterr().out), NAMESPACE, "DrinkOrders", "Drink")
    stored = aggregates(table)
    assert sums == {
        "Total Orders": stored[f"{today()}#TotalSales"],
        **{drink: stored[f"{today()}#{drink}"] for drink in set(drinks)},
    }
    assert stored[f"{today()}#TotalSales"] == len(drinks)
    assert api_calls.count("PutMetricData") == 0


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"METRICS_SINKS": "dynamodb"}, "METRICS_TABLE_NAME"),
        ({"METRICS_TABLE_NAME": "metrics"}, "METRICS_SINKS"),
        ({"METRICS_TABLE_NAME": "metrics", "METRICS_SINKS": "dynamodb,kafka"}, "METRICS_SINKS"),
        ({"METRICS_TABLE_NAME": "metrics", "METRICS_SINKS": "cloudwatch"}, "POWERTOOLS_METRICS_NAMESPACE"),
    ],
)
def test_missing_or_wrong_settings_stop_the_function_with_the_variable_named(
    mocked_aws, load_function, monkeypatch, env, named
):
    for variable in ("METRICS_TABLE_NAME", "METRICS_SINKS", "POWERTOOLS_METRICS_NAMESPACE"):
        monkeypatch.delenv(variable, raising=False)
    with pytest.raises((RuntimeError, ValueError), match=named):
        load_function("publish_metrics", env)


def test_the_day_is_the_utc_date_of_the_event_time(rules):
    utc_day = rules.utc_day
    assert utc_day("2024-03-01T23:30:00-02:00") == "2024-03-02"
    assert utc_day("2024-03-01T00:10:00+01:00") == "2024-02-29"
    assert utc_day("2024-03-01T12:00:00Z") == "2024-03-01"


def test_sales_land_on_the_documented_aggregate_keys(rules):
    sale = rules.Sale(sale_id="event#e-1", event_id="e-1", day="2024-03-01", drink="Flat White")
    assert rules.aggregate_keys(sale) == [
        {"PK": "Aggregate", "SK": "2024-03-01#TotalSales"},
        {"PK": "Aggregate", "SK": "2024-03-01#Flat White"},
    ]
    assert rules.marker_key(sale.sale_id) == {"PK": "Sale", "SK": "event#e-1"}


def test_a_sale_is_its_orders_run_or_else_its_event(rules, eventbridge_event):
    run = "arn:aws:states:us-east-1:123456789012:execution:order-processor:run-1"
    by_run = eventbridge_event(SALE, {**drink_detail("Latte"), "executionId": run})
    synthetic = eventbridge_event(SALE, drink_detail("Latte"))

    assert rules.read_sale(by_run).sale_id == f"run#{run}"
    assert rules.read_sale(synthetic).sale_id == f"event#{synthetic['id']}"


def test_the_marker_is_stored_even_when_only_cloudwatch_is_on(consumer, eventbridge_event, lambda_context):
    table, handler = consumer("cloudwatch")
    body = sale_body(eventbridge_event, "Latte")

    handler(sqs_batch(sqs_record(body)), lambda_context)

    marker = boto3.client("dynamodb", region_name=REGION).get_item(
        TableName=table, Key={"PK": {"S": "Sale"}, "SK": {"S": f"event#{json.loads(body)['id']}"}}
    )
    assert "Item" in marker


@pytest.mark.parametrize("sinks", ["dynamodb,cloudwatch", "cloudwatch"])
def test_an_order_announced_twice_by_its_run_counts_once(
    consumer, eventbridge_event, lambda_context, capsys, sinks
):
    table, handler = consumer(sinks)
    run = "arn:aws:states:us-east-1:123456789012:execution:order-processor:run-1"
    detail = {**drink_detail("Latte"), "executionId": run}
    first, again = (sqs_record(json.dumps(eventbridge_event(SALE, detail))) for _ in range(2))
    assert json.loads(first["body"])["id"] != json.loads(again["body"])["id"]

    handler(sqs_batch(first), lambda_context)
    handler(sqs_batch(again), lambda_context)

    sums = emf_sums(emf_documents(capsys.readouterr().out), NAMESPACE, "DrinkOrders", "Drink")
    assert sums == {"Latte": 1, "Total Orders": 1}
    if "dynamodb" in sinks:
        assert aggregates(table) == {f"{today()}#TotalSales": 1, f"{today()}#Latte": 1}


def test_each_sale_reaches_cloudwatch_as_soon_as_it_is_committed(
    consumer, eventbridge_event, lambda_context, capsys, api_calls
):
    """A timeout ends a batch where it is: what was printed before the third record is all that counts."""
    _, handler = consumer()
    records = [sqs_record(sale_body(eventbridge_event, d)) for d in ("Latte", "Espresso", "Cappuccino")]
    third = json.loads(records[2]["body"])["id"]
    printed_before_the_third: list[str] = []

    def look_at_stdout_when_the_third_commits(operation, params):
        if (
            operation == "TransactWriteItems"
            and params["TransactItems"][0]["Put"]["Item"]["eventId"]["S"] == third
        ):
            printed_before_the_third.append(capsys.readouterr().out)
        return None

    api_calls.fault = look_at_stdout_when_the_third_commits
    handler(sqs_batch(*records), lambda_context)

    [printed] = printed_before_the_third
    sums = emf_sums(emf_documents(printed), NAMESPACE, "DrinkOrders", "Drink")
    assert sums == {"Latte": 1, "Espresso": 1, "Total Orders": 2}
