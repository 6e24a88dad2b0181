"""The OrderProcessor definition executed in moto: shop status, capacity, the two waits and their timeouts."""

from __future__ import annotations

import json

from localcloud import emulator
from tests.workflows.workflow_stack import Shop


def test_shop_closed_emits_shop_unavailable_and_takes_no_order(shop: Shop) -> None:
    shop.set_store_open(False)

    execution = shop.finished(shop.start_processor("1", "testuser"))

    assert execution["status"] == "SUCCEEDED"
    assert "Emit - Shop not ready" in shop.visited_states(execution["executionArn"])
    (unavailable,) = shop.events("OrderProcessor.ShopUnavailable")
    assert unavailable["detail"]["userId"] == "testuser"
    assert unavailable["detail"]["orderId"] == "1"
    assert shop.events("OrderProcessor.WorkflowStarted") == []
    assert shop.counter() == 0
    assert shop.order("1") is None


def test_missing_config_item_counts_as_closed_not_as_an_error(shop: Shop) -> None:
    shop.remove_config()

    execution = shop.finished(shop.start_processor("1", "testuser"))

    assert execution["status"] == "SUCCEEDED"
    assert [event["detail"]["orderId"] for event in shop.events("OrderProcessor.ShopUnavailable")] == ["1"]
    assert shop.events("OrderProcessor.WorkflowStarted") == []


def test_new_order_event_parks_the_order_until_the_customer_chooses(shop: Shop) -> None:
    execution = shop.park_order("1", user_id="1")

    assert shop.status(execution) == "RUNNING"
    assert shop.visited_states(execution)[-1] == "Emit - Workflow Started TT"
    (started,) = shop.events("OrderProcessor.WorkflowStarted")
    assert started["detail"]["orderId"] == "1"
    assert started["detail"]["userId"] == "1"
    order = shop.order("1")
    assert order["ORDERSTATE"] == "CREATED"
    assert order["USERID"] == "1"
    assert order["TaskToken"] == started["detail"]["TaskToken"]
    assert "orderNumber" not in order
    assert shop.counter() == 0


def _fill_to_capacity(shop: Shop) -> list[str]:
    """Park ``capacity`` orders one after another, each seen parked before the next starts."""
    parked = []
    for number in range(1, shop.settings.capacity + 1):
        parked.append(shop.park_order(str(number), user_id=f"user-{number}"))
    return parked


def test_orders_up_to_capacity_park_and_the_next_gets_shop_unavailable(make_shop) -> None:
    shop = make_shop(capacity=3)
    parked = _fill_to_capacity(shop)

    rejected = shop.finished(shop.start_processor("4", "user-4"))

    assert rejected["status"] == "SUCCEEDED"
    assert "Emit - Shop not ready" in shop.visited_states(rejected["executionArn"])
    assert [event["detail"]["orderId"] for event in shop.events("OrderProcessor.ShopUnavailable")] == ["4"]
    assert {shop.status(execution) for execution in parked} == {"RUNNING"}
    assert len(shop.events("OrderProcessor.WorkflowStarted")) == 3
    assert shop.order("4") is None


def test_default_capacity_parks_twenty_and_rejects_the_twenty_first(shop: Shop) -> None:
    assert shop.settings.capacity == 20
    parked = _fill_to_capacity(shop)

    rejected = shop.finished(shop.start_processor("21", "user-21"))

    assert rejected["status"] == "SUCCEEDED"
    assert len(shop.executions("RUNNING")) == 20
    assert {shop.status(execution) for execution in parked} == {"RUNNING"}
    assert [event["detail"]["orderId"] for event in shop.events("OrderProcessor.ShopUnavailable")] == ["21"]


def test_customer_timeout_cancels_the_order_and_the_run_still_succeeds(make_shop) -> None:
    shop = make_shop(customer_timeout_seconds=1)
    shop.put_new_order("1", "1")

    execution = shop.finished(shop.execution_for("1"))

    assert execution["status"] == "SUCCEEDED"
    (timeout,) = shop.events("OrderProcessor.OrderTimeOut")
    assert timeout["detail"]["cause"] == "Customer timedout"
    assert timeout["detail"]["orderId"] == "1"
    assert timeout["detail"]["userId"] == "1"
    assert json.loads(execution["output"])["detail"]["orderId"] == "1"
    order = shop.wait_order_state("1", "CANCELLED")
    assert order["reason"] == "Customer timedout"
    assert shop.events("OrderProcessor.orderFinished") == []
    assert shop.counter() == 0


def test_barista_timeout_cancels_the_order_without_finishing_it(make_shop) -> None:
    shop = make_shop(customer_timeout_seconds=120, barista_timeout_seconds=1)
    execution_arn = shop.take_order_to_barista("1")

    execution = shop.finished(execution_arn)

    assert execution["status"] == "SUCCEEDED"
    (timeout,) = shop.events("OrderProcessor.OrderTimeOut")
    assert timeout["detail"]["cause"] == "Barista timedout"
    assert timeout["detail"]["orderId"] == "1"
    order = shop.wait_order_state("1", "CANCELLED")
    assert order["reason"] == "Barista timedout"
    assert shop.events("OrderProcessor.orderFinished") == []


def test_order_numbers_count_up_from_one(shop: Shop) -> None:
    for order_id in ("a", "b", "c"):
        shop.take_order_to_barista(order_id)

    numbers = {
        event["detail"]["orderId"]: event["detail"]["orderNumber"]
        for event in shop.events("OrderProcessor.WaitingCompletion")
    }

    assert numbers == {"a": "1", "b": "2", "c": "3"}
    assert [shop.order(order_id)["orderNumber"] for order_id in ("a", "b", "c")] == ["1", "2", "3"]
    assert shop.counter() == 3


def test_resuming_without_a_drink_numbers_the_order_but_announces_no_drink(shop: Shop) -> None:
    execution = shop.park_order("1", user_id="1")
    first_token = shop.order("1")["TaskToken"]

    shop.sfn.send_task_success(taskToken=first_token, output=json.dumps({"orderId": 1}))

    waiting = shop.wait_event("OrderProcessor.WaitingCompletion", "1")
    emulator.settle()
    order = shop.order("1")
    assert order["orderNumber"] == waiting["detail"]["orderNumber"] == "1"
    assert order["TaskToken"] == waiting["detail"]["TaskToken"] != first_token
    assert shop.events("OrderManager.WaitingCompletion") == []
    assert shop.status(execution) == "RUNNING"
