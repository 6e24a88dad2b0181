"""WorkflowStarted: an order parked at the customer wait becomes a CREATED item holding token #1."""

from __future__ import annotations

import time

import pytest

DETAIL_TYPE = "OrderProcessor.WorkflowStarted"


@pytest.fixture
def workflow_started(order_table, load_function):
    return load_function("workflow_started", {"ORDER_TABLE_NAME": order_table.name})


def started_detail(**overrides):
    detail = {
        "Message": "waiting for the customer",
        "TaskToken": "token-1",
        "orderId": "1",
        "userId": "testuser",
    }
    detail.update(overrides)
    return detail


def stored_orders(order_table):
    return order_table.scan()["Items"]


def test_started_workflow_creates_order_with_task_token(
    workflow_started, order_table, eventbridge_event, lambda_context
):
    before_ms = time.time() * 1000
    workflow_started(eventbridge_event(DETAIL_TYPE, started_detail()), lambda_context)

    item = order_table.get_item(Key={"PK": "orders", "SK": "1"})["Item"]
    assert item["USERID"] == "testuser"
    assert item["ORDERSTATE"] == "CREATED"
    assert item["TaskToken"] == "token-1"
    assert item["robot"] is False
    assert "orderNumber" not in item
    assert before_ms - 1000 <= item["TS"] <= time.time() * 1000 + 1000


def test_created_order_is_listed_by_state_and_by_user(
    workflow_started, order_table, eventbridge_event, lambda_context
):
    workflow_started(
        eventbridge_event(DETAIL_TYPE, started_detail(orderId="7", userId="u-7")), lambda_context
    )

    by_state = order_table.query(
        IndexName="GSI-status",
        KeyConditionExpression="ORDERSTATE = :s",
        ExpressionAttributeValues={":s": "CREATED"},
    )["Items"]
    by_user = order_table.query(
        IndexName="GSI-userId", KeyConditionExpression="USERID = :u", ExpressionAttributeValues={":u": "u-7"}
    )["Items"]
    assert [item["SK"] for item in by_state] == ["7"]
    assert [item["SK"] for item in by_user] == ["7"]


def test_robot_flag_is_kept_when_the_event_carries_it(
    workflow_started, order_table, eventbridge_event, lambda_context
):
    workflow_started(eventbridge_event(DETAIL_TYPE, started_detail(robot=True)), lambda_context)

    assert order_table.get_item(Key={"PK": "orders", "SK": "1"})["Item"]["robot"] is True


def test_reused_order_id_replaces_the_previous_order(
    workflow_started, order_table, eventbridge_event, lambda_context
):
    order_table.put_item(
        Item={"PK": "orders", "SK": "1", "USERID": "old", "ORDERSTATE": "COMPLETED", "orderNumber": "4"}
    )

    workflow_started(eventbridge_event(DETAIL_TYPE, started_detail(TaskToken="token-new")), lambda_context)

    item = order_table.get_item(Key={"PK": "orders", "SK": "1"})["Item"]
    assert (item["USERID"], item["ORDERSTATE"], item["TaskToken"]) == ("testuser", "CREATED", "token-new")
    assert "orderNumber" not in item


@pytest.mark.parametrize(
    "event",
    [
        pytest.param(
            {"detail-type": DETAIL_TYPE, "source": "awsserverlessda.serverlesspresso"}, id="no-detail"
        ),
        pytest.param(["not", "an", "event"], id="event-not-object"),
        pytest.param({"detail": started_detail()}, id="no-detail-type"),
    ],
)
def test_event_without_usable_envelope_is_rejected_and_nothing_written(
    workflow_started, order_table, lambda_context, function_logs, event
):
    module = workflow_started.__wrapped__.__globals__
    with pytest.raises(module["MalformedEvent"]):
        workflow_started(event, lambda_context)

    assert stored_orders(order_table) == []
    assert any("malformed" in message for message in function_logs.at("ERROR"))


@pytest.mark.parametrize(
    "detail",
    [
        pytest.param("orderId=1", id="detail-is-a-string"),
        pytest.param(started_detail(orderId=None), id="orderId-missing"),
        pytest.param({k: v for k, v in started_detail().items() if k != "userId"}, id="userId-absent"),
        pytest.param({k: v for k, v in started_detail().items() if k != "TaskToken"}, id="TaskToken-absent"),
        pytest.param(started_detail(orderId=1), id="orderId-number"),
        pytest.param(started_detail(userId={"S": "x"}), id="userId-object"),
        pytest.param(started_detail(orderId=""), id="orderId-empty"),
        pytest.param(started_detail(orderId="x" * 1025), id="orderId-longer-than-a-key"),
        pytest.param(started_detail(userId="\ud800"), id="userId-lone-surrogate"),
        pytest.param(started_detail(robot="yes"), id="robot-not-boolean"),
    ],
)
def test_malformed_detail_is_rejected_and_nothing_written(
    workflow_started, order_table, eventbridge_event, lambda_context, function_logs, detail
):
    module = workflow_started.__wrapped__.__globals__
    with pytest.raises(module["MalformedEvent"]):
        workflow_started(eventbridge_event(DETAIL_TYPE, detail), lambda_context)

    assert stored_orders(order_table) == []
    assert function_logs.at("ERROR")


def test_event_of_another_type_is_rejected(workflow_started, order_table, eventbridge_event, lambda_context):
    module = workflow_started.__wrapped__.__globals__
    with pytest.raises(module["MalformedEvent"], match="detail-type"):
        workflow_started(
            eventbridge_event("OrderProcessor.WaitingCompletion", started_detail()), lambda_context
        )

    assert stored_orders(order_table) == []


def test_missing_table_name_fails_at_import_naming_the_variable(mocked_aws, load_function, monkeypatch):
    monkeypatch.delenv("ORDER_TABLE_NAME", raising=False)
    with pytest.raises(RuntimeError, match="ORDER_TABLE_NAME"):
        load_function("workflow_started")
