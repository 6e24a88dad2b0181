"""The OrderManager definition executed in moto against a parked OrderProcessor: every branch of §4."""

from __future__ import annotations

import json

import pytest

from localcloud import emulator
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
    assert [event["detail"]["orderId"] for event in shop.events("OrderProcessor.orderFinished")] == ["1"]
    assert shop.orders_in_state(state) == ["1"]


def test_cancel_before_the_drink_was_chosen_ends_the_run(shop: Shop) -> None:
    processor = shop.park_order("1", user_id="1")

    result = shop.manage("cancel", "1", body={}, barista="3")

    assert result["status"] == "SUCCEEDED"
    assert shop.order("1")["ORDERSTATE"] == "CANCELLED"
    assert [event["detail"]["orderId"] for event in shop.events("OrderManager.OrderCancelled")] == ["1"]
    assert shop.finished(processor)["status"] == "SUCCEEDED"
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
