"""OrderTimedOut: a customer or barista timeout cancels the order that is still open, and nothing else."""

from __future__ import annotations

import inspect

import pytest

DETAIL_TYPE = "OrderProcessor.OrderTimeOut"
RUN = "arn:aws:states:us-east-1:123456789012:execution:order-processor:run-1"


@pytest.fixture
def order_timed_out(order_table, load_function):
    return load_function("order_timed_out", {"ORDER_TABLE_NAME": order_table.name})


def malformed_event_error(handler):
    return inspect.unwrap(handler).__globals__["MalformedEvent"]


def put_order(order_table, **attributes):
    item = {
        "PK": "orders",
        "SK": "1",
        "USERID": "1",
        "ORDERSTATE": "CREATED",
        "TaskToken": "token-1",
        "executionId": RUN,
        "TS": 1,
    }
    item.update(attributes)
    order_table.put_item(Item=item)
    return item


def stored(order_table, order_id="1"):
    return order_table.get_item(Key={"PK": "orders", "SK": order_id}).get("Item")


def timeout_event(eventbridge_event, **overrides):
    detail = {
        "Message": "timed out",
        "userId": "1",
        "orderId": "1",
        "cause": "Customer timedout",
        "executionId": RUN,
    }
    detail.update(overrides)
    return eventbridge_event(DETAIL_TYPE, detail)


@pytest.mark.parametrize("cause", ["Customer timedout", "Barista timedout"])
def test_timed_out_open_order_is_cancelled_with_the_cause(
    order_timed_out, order_table, eventbridge_event, lambda_context, cause
):
    put_order(order_table)

    order_timed_out(timeout_event(eventbridge_event, cause=cause), lambda_context)

    item = stored(order_table)
    assert (item["ORDERSTATE"], item["reason"]) == ("CANCELLED", cause)
    assert item["TS"] > 1
    assert item["TaskToken"] == "token-1"


def test_cancelled_order_leaves_the_created_list(
    order_timed_out, order_table, eventbridge_event, lambda_context
):
    put_order(order_table)

    order_timed_out(timeout_event(eventbridge_event), lambda_context)

    waiting = order_table.query(
        IndexName="GSI-status",
        KeyConditionExpression="ORDERSTATE = :s",
        ExpressionAttributeValues={":s": "CREATED"},
    )["Items"]
    assert waiting == []


@pytest.mark.parametrize("closed_state", ["COMPLETED", "CANCELLED"])
def test_timeout_of_a_closed_order_changes_nothing(
    order_timed_out, order_table, eventbridge_event, lambda_context, function_logs, closed_state
):
    before = put_order(order_table, ORDERSTATE=closed_state)

    order_timed_out(timeout_event(eventbridge_event, cause="Barista timedout"), lambda_context)

    assert stored(order_table) == before
    assert any("no longer open" in message for message in function_logs.at("INFO"))


def test_timeout_from_another_run_leaves_the_order_open(
    order_timed_out, order_table, eventbridge_event, lambda_context
):
    before = put_order(order_table)

    order_timed_out(timeout_event(eventbridge_event, executionId=RUN + "-duplicate"), lambda_context)

    assert stored(order_table) == before


def test_the_same_timeout_delivered_twice_cancels_once(
    order_timed_out, order_table, eventbridge_event, lambda_context
):
    put_order(order_table)
    event = timeout_event(eventbridge_event)
    order_timed_out(event, lambda_context)
    cancelled = stored(order_table)

    order_timed_out(event, lambda_context)

    assert stored(order_table) == cancelled


def test_timeout_of_an_unknown_order_creates_no_item(
    order_timed_out, order_table, eventbridge_event, lambda_context
):
    order_timed_out(timeout_event(eventbridge_event, orderId="nope"), lambda_context)

    assert order_table.scan()["Items"] == []


@pytest.mark.parametrize(
    "detail",
    [
        pytest.param(None, id="detail-null"),
        pytest.param("orderId=1", id="detail-is-a-string"),
        pytest.param({"userId": "1", "cause": "Customer timedout"}, id="orderId-absent"),
        pytest.param({"userId": "1", "orderId": 1, "cause": "Customer timedout"}, id="orderId-number"),
        pytest.param({"userId": "1", "orderId": "1"}, id="cause-absent"),
        pytest.param({"userId": "1", "orderId": "1", "cause": "x" * 100_000}, id="cause-unknown-and-huge"),
        pytest.param({"userId": "1", "orderId": "1", "cause": ["Customer timedout"]}, id="cause-list"),
        pytest.param({"userId": "1", "orderId": "1", "cause": "Customer timedout"}, id="executionId-absent"),
        pytest.param(
            {"userId": "1", "orderId": "1", "cause": "Customer timedout", "executionId": 7},
            id="executionId-number",
        ),
    ],
)
def test_malformed_event_is_rejected_and_nothing_written(
    order_timed_out, order_table, eventbridge_event, lambda_context, function_logs, detail
):
    before = put_order(order_table)

    with pytest.raises(malformed_event_error(order_timed_out)):
        order_timed_out(eventbridge_event(DETAIL_TYPE, detail), lambda_context)

    assert stored(order_table) == before
    assert function_logs.at("ERROR")


def test_event_without_detail_is_rejected(order_timed_out, order_table, lambda_context):
    before = put_order(order_table)

    with pytest.raises(malformed_event_error(order_timed_out), match="detail"):
        order_timed_out({"detail-type": DETAIL_TYPE}, lambda_context)

    assert stored(order_table) == before


def test_missing_table_name_fails_at_import_naming_the_variable(mocked_aws, load_function, monkeypatch):
    monkeypatch.delenv("ORDER_TABLE_NAME", raising=False)
    with pytest.raises(RuntimeError, match="ORDER_TABLE_NAME"):
        load_function("order_timed_out")
