"""WaitingCompletion: a numbered order gets token #2 and is announced to the baristas (or, if it cannot be,
is held or its workflow is ended), without ever touching another user's order."""

from __future__ import annotations

import inspect
import json

import boto3
import pytest
from botocore.stub import Stubber

DETAIL_TYPE = "OrderProcessor.WaitingCompletion"
ANNOUNCED = "OrderManager.WaitingCompletion"
SOURCE = "awsserverlessda.serverlesspresso"
RUN = "arn:aws:states:us-east-1:123456789012:execution:order-processor:run-1"
CAPPUCCINO = {
    "userId": "1",
    "drink": "Cappuccino",
    "modifiers": [],
    "icon": "barista-icons_cappuccino-alternative",
}


@pytest.fixture
def bus(mocked_aws):
    return boto3.client("events").create_event_bus(Name="serverlesspresso-test")["EventBusArn"].split("/")[-1]


@pytest.fixture
def tap(bus, event_tap):
    return event_tap(bus)


@pytest.fixture
def waiting_completion(order_table, bus, load_function):
    return load_function(
        "waiting_completion",
        {"ORDER_TABLE_NAME": order_table.name, "EVENT_BUS_NAME": bus, "EVENT_SOURCE": SOURCE},
    )


def module_of(handler):
    return inspect.unwrap(handler).__globals__


def put_order(order_table, **attributes):
    item = {
        "PK": "orders",
        "SK": "1",
        "USERID": "1",
        "ORDERSTATE": "CREATED",
        "TaskToken": "token-1",
        "executionId": RUN,
        "robot": False,
        "TS": 1,
        "drinkOrder": json.dumps(CAPPUCCINO),
    }
    item.update(attributes)
    item = {key: value for key, value in item.items() if value is not None}
    order_table.put_item(Item=item)
    return item


def stored(order_table, order_id="1"):
    return order_table.get_item(Key={"PK": "orders", "SK": order_id}).get("Item")


def waiting_event(eventbridge_event, **overrides):
    detail = {
        "Message": "waiting for the barista",
        "TaskToken": "token-2",
        "orderId": "1",
        "orderNumber": "5",
        "userId": "1",
        "executionId": RUN,
    }
    detail.update(overrides)
    return eventbridge_event(DETAIL_TYPE, detail)


def test_numbered_order_is_stored_and_announced_to_baristas(
    waiting_completion, order_table, tap, eventbridge_event, lambda_context
):
    put_order(order_table)

    waiting_completion(waiting_event(eventbridge_event), lambda_context)

    item = stored(order_table)
    assert (item["orderNumber"], item["TaskToken"]) == ("5", "token-2")
    assert item["TS"] > 1
    [announced] = tap.received()
    assert announced["detail-type"] == ANNOUNCED
    assert announced["source"] == SOURCE
    detail = announced["detail"]
    assert detail["drinkOrder"] == CAPPUCCINO
    assert {k: detail[k] for k in ("orderId", "orderNumber", "state", "userId", "robot", "executionId")} == {
        "orderId": "1",
        "orderNumber": "5",
        "state": "CREATED",
        "userId": "1",
        "robot": False,
        "executionId": RUN,
    }
    assert detail["TS"] == item["TS"]
    assert detail["Message"]


def test_event_source_comes_from_the_environment(
    order_table, bus, load_function, tap, event_tap, eventbridge_event, lambda_context
):
    other_source_tap = event_tap(bus, source="com.example.coffee")
    handler = load_function(
        "waiting_completion",
        {"ORDER_TABLE_NAME": order_table.name, "EVENT_BUS_NAME": bus, "EVENT_SOURCE": "com.example.coffee"},
    )
    put_order(order_table)

    handler(waiting_event(eventbridge_event), lambda_context)

    assert [event["detail-type"] for event in other_source_tap.received()] == [ANNOUNCED]
    assert tap.received() == []


def test_another_users_order_is_left_alone_and_not_announced(
    waiting_completion, order_table, tap, eventbridge_event, lambda_context, function_logs
):
    before = put_order(order_table, USERID="someone-else")

    waiting_completion(waiting_event(eventbridge_event, userId="1"), lambda_context)

    assert stored(order_table) == before
    assert tap.received() == []
    assert function_logs.at("WARNING")


def test_the_same_event_delivered_again_announces_nothing_a_second_time(
    waiting_completion, order_table, tap, eventbridge_event, lambda_context
):
    put_order(order_table)
    event = waiting_event(eventbridge_event)
    waiting_completion(event, lambda_context)
    numbered = stored(order_table)

    waiting_completion(event, lambda_context)

    assert stored(order_table) == numbered
    assert [e["detail-type"] for e in tap.received()] == [ANNOUNCED]


def test_a_retry_after_a_refused_announcement_announces_once(
    waiting_completion, order_table, tap, eventbridge_event, lambda_context
):
    put_order(order_table)
    event = waiting_event(eventbridge_event)
    events = module_of(waiting_completion)["events"]
    refused = {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "later"}]}
    with Stubber(events) as stub:
        stub.add_response("put_events", refused)
        with pytest.raises(module_of(waiting_completion)["EventNotDelivered"]):
            waiting_completion(event, lambda_context)
    numbered = stored(order_table)

    waiting_completion(event, lambda_context)
    waiting_completion(event, lambda_context)

    assert [e["detail-type"] for e in tap.received()] == [ANNOUNCED]
    assert {k: v for k, v in stored(order_table).items() if k != "announced"} == numbered


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"executionId": RUN + "-duplicate"}, id="another-run"),
        pytest.param({"TaskToken": "token-forged", "orderNumber": "99"}, id="renumbering-a-numbered-order"),
    ],
)
def test_an_event_that_is_not_this_orders_numbering_changes_nothing(
    waiting_completion, order_table, tap, eventbridge_event, lambda_context, overrides
):
    put_order(order_table)
    waiting_completion(waiting_event(eventbridge_event), lambda_context)
    numbered = stored(order_table)
    tap.received()

    waiting_completion(waiting_event(eventbridge_event, **overrides), lambda_context)

    assert stored(order_table) == numbered
    assert len(tap.received()) == 1


def test_an_order_of_another_run_is_never_numbered(
    waiting_completion, order_table, tap, eventbridge_event, lambda_context
):
    before = put_order(order_table, executionId=RUN + "-other")

    waiting_completion(waiting_event(eventbridge_event), lambda_context)

    assert stored(order_table) == before
    assert tap.received() == []


def test_unknown_order_creates_no_stub_item(
    waiting_completion, order_table, tap, eventbridge_event, lambda_context
):
    waiting_completion(waiting_event(eventbridge_event, orderId="nope"), lambda_context)

    assert order_table.scan()["Items"] == []
    assert tap.received() == []


def test_order_without_drink_keeps_number_warns_and_announces_nothing(
    waiting_completion, order_table, tap, eventbridge_event, lambda_context, function_logs
):
    put_order(order_table, drinkOrder=None)

    waiting_completion(waiting_event(eventbridge_event), lambda_context)

    item = stored(order_table)
    assert (item["orderNumber"], item["TaskToken"]) == ("5", "token-2")
    assert tap.received() == []
    assert any("drinkOrder" in message for message in function_logs.at("WARNING"))


@pytest.mark.parametrize(
    "drink_order",
    [pytest.param("{not json", id="not-json"), pytest.param('["Cappuccino"]', id="json-array")],
)
def test_unreadable_drink_keeps_number_and_announces_nothing(
    waiting_completion, order_table, tap, eventbridge_event, lambda_context, function_logs, drink_order
):
    put_order(order_table, drinkOrder=drink_order)

    waiting_completion(waiting_event(eventbridge_event), lambda_context)

    assert stored(order_table)["orderNumber"] == "5"
    assert tap.received() == []
    assert function_logs.at("WARNING")


@pytest.mark.parametrize("closed_state", ["CANCELLED", "COMPLETED"])
def test_order_closed_before_drink_was_chosen_ends_its_workflow(
    waiting_completion, order_table, tap, eventbridge_event, lambda_context, closed_state
):
    put_order(order_table, ORDERSTATE=closed_state, drinkOrder=None)
    sfn = module_of(waiting_completion)["sfn"]

    with Stubber(sfn) as stub:
        stub.add_response("send_task_success", {}, {"taskToken": "token-2", "output": "{}"})
        waiting_completion(waiting_event(eventbridge_event), lambda_context)
        stub.assert_no_pending_responses()

    assert stored(order_table)["ORDERSTATE"] == closed_state
    assert tap.received() == []


def test_workflow_that_already_ended_is_not_retried(
    waiting_completion, order_table, tap, eventbridge_event, lambda_context, function_logs
):
    put_order(order_table, ORDERSTATE="CANCELLED")
    sfn = module_of(waiting_completion)["sfn"]

    with Stubber(sfn) as stub:
        stub.add_client_error("send_task_success", service_error_code="TaskTimedOut")
        waiting_completion(waiting_event(eventbridge_event), lambda_context)

    assert tap.received() == []
    assert function_logs.at("WARNING")


def test_refused_announcement_raises_so_the_invocation_is_retried(
    waiting_completion, order_table, eventbridge_event, lambda_context
):
    put_order(order_table)
    events = module_of(waiting_completion)["events"]
    refused = {
        "FailedEntryCount": 1,
        "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}],
    }

    with Stubber(events) as stub:
        stub.add_response("put_events", refused)
        with pytest.raises(module_of(waiting_completion)["EventNotDelivered"], match="InternalFailure"):
            waiting_completion(waiting_event(eventbridge_event), lambda_context)


@pytest.mark.parametrize(
    "detail",
    [
        pytest.param(None, id="detail-null"),
        pytest.param(["1"], id="detail-is-a-list"),
        pytest.param({"orderId": "1", "userId": "1", "orderNumber": "5"}, id="TaskToken-absent"),
        pytest.param({"TaskToken": "t", "userId": "1", "orderNumber": "5"}, id="orderId-absent"),
        pytest.param({"TaskToken": "t", "orderId": "1", "orderNumber": "5"}, id="userId-absent"),
        pytest.param({"TaskToken": "t", "orderId": "1", "userId": "1"}, id="orderNumber-absent"),
        pytest.param(
            {"TaskToken": "t", "orderId": "1", "userId": "1", "orderNumber": 5}, id="orderNumber-number"
        ),
        pytest.param(
            {"TaskToken": "t", "orderId": "1", "userId": {"S": "1"}, "orderNumber": "5"}, id="userId-object"
        ),
        pytest.param(
            {"TaskToken": "t" * 5000, "orderId": "1", "userId": "1", "orderNumber": "5", "executionId": RUN},
            id="huge-token",
        ),
        pytest.param(
            {"TaskToken": "t", "orderId": "1", "userId": "1", "orderNumber": "5"}, id="executionId-absent"
        ),
    ],
)
def test_malformed_event_is_rejected_and_nothing_written(
    waiting_completion, order_table, tap, eventbridge_event, lambda_context, function_logs, detail
):
    before = put_order(order_table)

    with pytest.raises(module_of(waiting_completion)["MalformedEvent"]):
        waiting_completion(eventbridge_event(DETAIL_TYPE, detail), lambda_context)

    assert stored(order_table) == before
    assert tap.received() == []
    assert function_logs.at("ERROR")


def test_event_without_detail_is_rejected(waiting_completion, order_table, tap, lambda_context):
    before = put_order(order_table)

    with pytest.raises(module_of(waiting_completion)["MalformedEvent"], match="detail"):
        waiting_completion({"detail-type": DETAIL_TYPE, "source": SOURCE}, lambda_context)

    assert stored(order_table) == before


@pytest.mark.parametrize("missing", ["ORDER_TABLE_NAME", "EVENT_BUS_NAME", "EVENT_SOURCE"])
def test_missing_setting_fails_at_import_naming_the_variable(mocked_aws, load_function, monkeypatch, missing):
    settings = {"ORDER_TABLE_NAME": "orders", "EVENT_BUS_NAME": "bus", "EVENT_SOURCE": SOURCE}
    for name in settings:
        monkeypatch.delenv(name, raising=False)
    del settings[missing]

    with pytest.raises(RuntimeError, match=missing):
        load_function("waiting_completion", settings)
