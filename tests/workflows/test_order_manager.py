"""The OrderManager definition executed in moto against a parked OrderProcessor: every branch of §4."""

from __future__ import annotations

import json

import pytest

from localcloud import emulator
from tests.workflows.state_paths import order_processor_path
from tests.workflows.workflow_stack import CAPPUCCINO, Shop


@pytest.mark.parametrize("action", ["", None], ids=["empty-action", "no-action"])
def test_valid_drink_is_stored_and_the_order_moves_to_the_barista(shop: Shop, action: str | None) -> None:
    processor = shop.park_order("1", user_id="1")
    first_token = shop.order("1")["TaskToken"]

    result = shop.manage(action, "1", body=CAPPUCCINO)

    assert result["status"] == "SUCCEEDED"
    waiting = shop.wait_event("OrderManager.WaitingCompletion", "1")
    assert waiting["detail"]["drinkOrder"]["drink"] == "Cappuccino"
    assert waiting["detail"]["orderNumber"] == "1"
    (processor_waiting,) = shop.events("OrderProcessor.WaitingCompletion")
    order = shop.order("1")
    assert json.loads(order["drinkOrder"]) == CAPPUCCINO
    assert order["orderNumber"] == "1"
    assert order["TaskToken"] == processor_waiting["detail"]["TaskToken"] != first_token
    assert shop.status(processor) == "RUNNING"


def _nothing_changed(shop: Shop, processor: str, parked_item: dict, events_before: list[str]) -> None:
    emulator.settle()
    assert shop.order("1") == parked_item
    assert shop.detail_types() == events_before
    assert shop.status(processor) == "RUNNING"
    assert shop.counter() == 0


@pytest.mark.parametrize("action", ["", "placeOrder"], ids=["empty-action", "placeOrder"])
def test_drink_not_on_the_menu_fails_as_invalid_order(shop: Shop, action: str | None) -> None:
    processor = shop.park_order("1", user_id="1")
    parked_item, events_before = shop.order("1"), shop.detail_types()

    result = shop.manage(action, "1", body={**CAPPUCCINO, "drink": "milkshake"})

    assert result["status"] == "FAILED"
    assert result["error"] == "InvalidOrder"
    assert "milkshake" in result["cause"]
    _nothing_changed(shop, processor, parked_item, events_before)


def test_modifier_the_menu_does_not_offer_fails_as_invalid_order(shop: Shop) -> None:
    processor = shop.park_order("1", user_id="1")
    parked_item, events_before = shop.order("1"), shop.detail_types()

    result = shop.manage("", "1", body={**CAPPUCCINO, "modifiers": ["Oat milk"]})

    assert result["status"] == "FAILED"
    assert result["error"] == "InvalidOrder"
    assert "Oat milk" in result["cause"]
    _nothing_changed(shop, processor, parked_item, events_before)


def test_order_that_names_no_customer_fails_as_invalid_order(shop: Shop) -> None:
    processor = shop.park_order("1", user_id="1")
    parked_item, events_before = shop.order("1"), shop.detail_types()
    anonymous = {key: value for key, value in CAPPUCCINO.items() if key != "userId"}

    result = shop.manage("", "1", body=anonymous)

    assert result["status"] == "FAILED"
    assert result["error"] == "InvalidOrder"
    assert "userId" in result["cause"]
    _nothing_changed(shop, processor, parked_item, events_before)


def test_drink_from_another_user_is_not_accepted(shop: Shop) -> None:
    processor = shop.park_order("1", user_id="1")
    parked_item, events_before = shop.order("1"), shop.detail_types()

    result = shop.manage("", "1", body={**CAPPUCCINO, "userId": "someone-else"})

    assert result["status"] == "FAILED"
    assert result["error"] == "OrderNotAccepted"
    _nothing_changed(shop, processor, parked_item, events_before)


def test_second_drink_for_the_same_order_is_not_accepted(shop: Shop) -> None:
    shop.take_order_to_barista("1")
    emulator.settle()
    item_before, events_before = shop.order("1"), shop.detail_types()

    result = shop.manage("", "1", body={**CAPPUCCINO, "drink": "Latte"})

    assert result["status"] == "FAILED"
    assert result["error"] == "OrderNotAccepted"
    emulator.settle()
    assert shop.order("1") == item_before
    assert shop.detail_types() == events_before


def test_make_claims_the_order_without_resuming_the_processor(shop: Shop) -> None:
    processor = shop.take_order_to_barista("1")
    token_before = shop.order("1")["TaskToken"]

    result = shop.manage("make", "1", barista="3")

    assert result["status"] == "SUCCEEDED"
    order = shop.order("1")
    assert order["baristaUserId"] == "3"
    assert order["ORDERSTATE"] == "CREATED"
    assert order["TaskToken"] == token_before
    (made,) = shop.events("OrderManager.MakeOrder")
    assert made["detail"]["baristaUserId"] == "3"
    assert made["detail"]["orderId"] == "1"
    assert made["detail"]["userId"] == "1"
    emulator.settle()
    assert shop.status(processor) == "RUNNING"
    assert shop.events("OrderProcessor.orderFinished") == []


def test_unmake_releases_the_order(shop: Shop) -> None:
    processor = shop.take_order_to_barista("1")
    shop.manage("make", "1", barista="3")

    result = shop.manage("unmake", "1", barista="3")

    assert result["status"] == "SUCCEEDED"
    assert shop.order("1")["baristaUserId"] == ""
    assert [event["detail"]["baristaUserId"] for event in shop.events("OrderManager.MakeOrder")] == ["3", ""]
    emulator.settle()
    assert shop.status(processor) == "RUNNING"


@pytest.mark.parametrize(
    ("action", "state", "detail_type"),
    [
        ("complete", "COMPLETED", "OrderManager.OrderCompleted"),
        ("cancel", "CANCELLED", "OrderManager.OrderCancelled"),
    ],
)
def test_complete_or_cancel_finishes_the_order(shop: Shop, action: str, state: str, detail_type: str) -> None:
    processor = shop.take_order_to_barista("1", user_id="1")

    result = shop.manage(action, "1", body={}, barista="3")

    assert result["status"] == "SUCCEEDED"
    assert shop.order("1")["ORDERSTATE"] == state
    (finished_event,) = shop.events(detail_type)
    assert finished_event["detail"]["orderId"] == "1"
    assert finished_event["detail"]["userId"] == "1"
    assert finished_event["detail"]["ORDERSTATE"] == state
    execution = shop.finished(processor)
    assert execution["status"] == "SUCCEEDED"
    assert shop.visited_states(processor) == order_processor_path(state.lower())
    assert [event["detail"]["orderId"] for event in shop.events("OrderProcessor.orderFinished")] == ["1"]
    assert shop.orders_in_state(state) == ["1"]


def test_cancel_before_the_drink_was_chosen_ends_the_run(shop: Shop) -> None:
    processor = shop.park_order("1", user_id="1")

    result = shop.manage("cancel", "1", body={}, barista="3")

    assert result["status"] == "SUCCEEDED"
    assert shop.order("1")["ORDERSTATE"] == "CANCELLED"
    assert [event["detail"]["orderId"] for event in shop.events("OrderManager.OrderCancelled")] == ["1"]
    assert shop.finished(processor)["status"] == "SUCCEEDED"
    assert shop.visited_states(processor) == order_processor_path("cancelled")
    emulator.settle()
    assert [event["detail"]["orderId"] for event in shop.events("OrderProcessor.orderFinished")] == ["1"]
    assert shop.events("OrderManager.WaitingCompletion") == []


def test_finished_order_cannot_be_completed_cancelled_or_claimed_again(shop: Shop) -> None:
    processor = shop.take_order_to_barista("1")
    shop.manage("complete", "1", body={})
    shop.finished(processor)
    emulator.settle()
    item_before, events_before = shop.order("1"), shop.detail_types()

    results = {action: shop.manage(action, "1", body={}) for action in ("complete", "cancel", "make")}

    assert {action: result["error"] for action, result in results.items()} == dict.fromkeys(
        results, "OrderNotFound"
    )
    assert shop.order("1") == item_before
    assert shop.detail_types() == events_before


def test_unknown_order_fails_as_not_found_and_creates_nothing(shop: Shop) -> None:
    actions = ("complete", "cancel", "make", "unmake")

    results = {action: shop.manage(action, "nope", body={}, barista="3") for action in actions}

    assert {action: result["status"] for action, result in results.items()} == dict.fromkeys(
        actions, "FAILED"
    )
    assert {action: result["error"] for action, result in results.items()} == dict.fromkeys(
        actions, "OrderNotFound"
    )
    assert shop.order("nope") is None
    emulator.settle()
    assert shop.events() == []


def test_full_journey_from_scan_to_order_finished(shop: Shop) -> None:
    shop.put_new_order("2", "1")
    processor = shop.wait_parked("2")
    assert shop.choose_drink("2", CAPPUCCINO)["status"] == "SUCCEEDED"
    shop.wait_event("OrderManager.WaitingCompletion", "2")

    shop.manage("make", "2", body={}, barista="3")
    assert shop.order("2")["baristaUserId"] == "3"
    emulator.settle()
    assert shop.status(processor) == "RUNNING"

    shop.manage("complete", "2", body=CAPPUCCINO, barista="3")
    assert shop.finished(processor)["status"] == "SUCCEEDED"
    emulator.settle()

    assert shop.order("2")["ORDERSTATE"] == "COMPLETED"
    (completed,) = shop.events("OrderManager.OrderCompleted")
    assert completed["detail"] == {
        **completed["detail"],
        "orderId": "2",
        "userId": "1",
        "ORDERSTATE": "COMPLETED",
    }
    assert shop.detail_types() == [
        "Validator.NewOrder",
        "OrderProcessor.WorkflowStarted",
        "OrderProcessor.WaitingCompletion",
        "OrderManager.WaitingCompletion",
        "OrderManager.MakeOrder",
        "OrderManager.OrderCompleted",
        "OrderProcessor.orderFinished",
    ]
    assert shop.orders_in_state("COMPLETED") == ["2"]


# --- entry checks (D13): a bad request is a clear InvalidOrder and changes nothing -------------------


def _run(shop: Shop, request: dict) -> dict:
    return shop.sfn.start_sync_execution(stateMachineArn=shop.manager_arn, input=json.dumps(request))


def _as_the_customer(order_id: str, body) -> dict:
    return {
        "action": "",
        "body": body,
        "orderId": order_id,
        "baristaUserId": "1",
        "caller": {"admin": False, "customer": {"userId": "1"}},
    }


@pytest.mark.parametrize(
    "request_",
    [
        pytest.param({"action": "make", "body": {}, "orderId": "1"}, id="make-without-barista"),
        pytest.param(
            {"action": "make", "body": {}, "orderId": "1", "baristaUserId": ""}, id="make-empty-barista"
        ),
        pytest.param({"action": 5, "body": {}, "orderId": "1", "baristaUserId": "3"}, id="action-number"),
        pytest.param(
            {"action": "complete", "body": {}, "orderId": 1, "baristaUserId": "3"}, id="orderId-number"
        ),
        pytest.param({"action": "complete", "body": {}, "baristaUserId": "3"}, id="orderId-missing"),
        pytest.param({"action": "make", "body": {}, "orderId": "1", "baristaUserId": 3}, id="barista-number"),
        pytest.param(
            {"action": "complete", "body": "{}", "orderId": "1", "baristaUserId": "3"}, id="body-text"
        ),
        pytest.param(_as_the_customer("1", []), id="customer-body-empty-list"),
        pytest.param(_as_the_customer("1", ["Cappuccino"]), id="customer-body-list"),
        pytest.param(_as_the_customer("1", None), id="customer-body-null"),
    ],
)
def test_a_malformed_request_fails_as_invalid_order_and_changes_nothing(shop: Shop, request_: dict) -> None:
    processor = shop.take_order_to_barista("1")
    emulator.settle()
    item_before, events_before = shop.order("1"), shop.detail_types()

    result = _run(shop, request_)

    assert (result["status"], result["error"]) == ("FAILED", "InvalidOrder")
    assert result["cause"].startswith("The request is not valid")  # refused before any task ran
    emulator.settle()
    assert shop.order("1") == item_before
    assert shop.detail_types() == events_before
    assert shop.status(processor) == "RUNNING"


@pytest.mark.parametrize("action", ["complete", "cancel", "make", "unmake"])
def test_an_order_id_longer_than_a_key_may_be_is_refused_by_name(shop: Shop, action) -> None:
    result = shop.manage(action, "x" * 1025)

    assert (result["status"], result["error"]) == ("FAILED", "InvalidOrder")
    assert shop.ddb.scan(TableName=shop.order_table)["Items"] == []
    emulator.settle()
    assert shop.events() == []


def test_an_oversized_drink_order_is_refused_and_leaves_the_order_waiting(shop: Shop) -> None:
    processor = shop.park_order("1", user_id="1")
    parked_item, events_before = shop.order("1"), shop.detail_types()

    result = shop.manage("", "1", body={**CAPPUCCINO, "icon": "x" * 5000})

    assert (result["status"], result["error"]) == ("FAILED", "InvalidOrder")
    assert "bytes" in result["cause"]
    _nothing_changed(shop, processor, parked_item, events_before)
