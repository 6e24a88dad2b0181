"""The OrderProcessor definition executed in moto: shop status, capacity, the two waits and their timeouts."""

from __future__ import annotations

import json

import pytest

from localcloud import emulator
from tests.workflows.state_paths import order_processor_path
from tests.workflows.workflow_stack import Shop, eventually


def test_shop_closed_emits_shop_unavailable_and_takes_no_order(shop: Shop) -> None:
    shop.set_store_open(False)

    execution = shop.finished(shop.start_processor("1", "testuser"))

    assert execution["status"] == "SUCCEEDED"
    assert "Emit - Shop not ready" in shop.visited_states(execution["executionArn"])
    assert shop.visited_states(execution["executionArn"]) == order_processor_path("shop closed", console=True)
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
    assert shop.visited_states(rejected["executionArn"]) == order_processor_path("no capacity", console=True)
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
    assert shop.visited_states(execution["executionArn"]) == order_processor_path("customer timeout")
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
    assert timeout["detail"]["userId"] == "1"
    assert shop.visited_states(execution_arn) == order_processor_path("barista timeout")
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


# --- one run per order id (D12) ---------------------------------------------------------------------


def _events_of(shop: Shop, order_id: str) -> list[str]:
    return [e["detail-type"] for e in shop.events() if e["detail"].get("orderId") == order_id]


def test_a_second_new_order_for_a_placed_order_ends_at_once_and_leaves_the_order_as_it_was(
    shop: Shop,
) -> None:
    first = shop.take_order_to_barista("1", user_id="1")
    emulator.settle()
    placed, events_before = shop.order("1"), _events_of(shop, "1")

    shop.put_new_order("1", "someone-else")

    second = eventually(lambda: [a for a in shop.executions_for("1") if a != first], "the second run")[0]
    assert shop.finished(second)["status"] == "SUCCEEDED"
    assert shop.visited_states(second)[-1] == "Duplicate order"
    assert shop.visited_states(second) == order_processor_path("duplicate NewOrder")
    emulator.settle()
    assert shop.order("1") == placed
    assert _events_of(shop, "1") == [*events_before, "Validator.NewOrder"]
    assert shop.status(first) == "RUNNING"
    assert shop.counter() == 1


def test_a_new_order_for_a_finished_order_never_times_out_or_turns_the_customer_away(make_shop) -> None:
    shop = make_shop(customer_timeout_seconds=1)
    first = shop.take_order_to_barista("1")
    assert shop.manage("complete", "1")["status"] == "SUCCEEDED"
    shop.finished(first)

    shop.put_new_order("1", "1")

    second = eventually(lambda: [a for a in shop.executions_for("1") if a != first], "the second run")[0]
    assert shop.finished(second)["status"] == "SUCCEEDED"
    emulator.settle()
    assert shop.order("1")["ORDERSTATE"] == "COMPLETED"
    kinds = _events_of(shop, "1")
    assert "OrderProcessor.OrderTimeOut" not in kinds
    assert "OrderProcessor.ShopUnavailable" not in kinds


@pytest.mark.parametrize("shop_state", ["closed", "full"])
def test_a_repeated_new_order_when_the_shop_cannot_take_orders_turns_nobody_away(
    make_shop, shop_state
) -> None:
    shop = make_shop(capacity=1)
    first = shop.park_order("1")
    if shop_state == "closed":
        shop.set_store_open(False)

    shop.put_new_order("1", "1")

    second = eventually(lambda: [a for a in shop.executions_for("1") if a != first], "the second run")[0]
    assert shop.finished(second)["status"] == "SUCCEEDED"
    emulator.settle()
    assert "OrderProcessor.ShopUnavailable" not in _events_of(shop, "1")
    assert shop.status(first) == "RUNNING"


def test_two_runs_started_together_for_one_order_id_leave_exactly_one_holding_it(make_shop) -> None:
    shop = make_shop(capacity=5)
    runs = [shop.start_processor("1", "1"), shop.start_processor("1", "1")]

    ended = eventually(lambda: [a for a in runs if shop.status(a) != "RUNNING"], "the duplicate run to end")

    emulator.settle()
    (loser,) = ended
    (winner,) = [a for a in runs if a != loser]
    assert shop.status(winner) == "RUNNING"
    assert shop.status(loser) == "SUCCEEDED"
    assert shop.visited_states(loser)[-1] == "Duplicate order"
    assert shop.visited_states(loser) == order_processor_path(
        "duplicate started at the same time", console=True
    )
    assert shop.order("1")["executionId"] == winner
    assert shop.order("1")["TaskToken"] in {
        e["detail"]["TaskToken"] for e in shop.events("OrderProcessor.WorkflowStarted")
    }
    assert len(shop.executions("RUNNING")) == 1
    kinds = _events_of(shop, "1")
    assert "OrderProcessor.OrderTimeOut" not in kinds and "OrderProcessor.ShopUnavailable" not in kinds


def test_a_run_told_it_is_a_duplicate_ends_quietly_without_a_timeout(make_shop) -> None:
    shop = make_shop(customer_timeout_seconds=2)
    execution = shop.park_order("1")
    token = shop.order("1")["TaskToken"]

    shop.sfn.send_task_failure(taskToken=token, error="DuplicateOrder", cause="another run has it")

    assert shop.finished(execution)["status"] == "SUCCEEDED"
    assert shop.visited_states(execution)[-1] == "Duplicate order"
    emulator.settle()
    assert "OrderProcessor.OrderTimeOut" not in _events_of(shop, "1")


def test_every_event_the_order_table_acts_on_names_the_run_that_sent_it(make_shop) -> None:
    shop = make_shop(barista_timeout_seconds=1)
    execution = shop.take_order_to_barista("1")
    shop.finished(execution)

    for kind in ("WorkflowStarted", "WaitingCompletion", "OrderTimeOut"):
        (event,) = shop.events(f"OrderProcessor.{kind}")
        assert event["detail"]["executionId"] == execution, kind


# --- entry checks (D13) -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "detail",
    [
        pytest.param({"orderId": 1, "userId": "1"}, id="orderId-number"),
        pytest.param({"orderId": "1", "userId": ["1"]}, id="userId-list"),
        pytest.param({"orderId": "", "userId": "1"}, id="orderId-empty"),
        pytest.param({"userId": "1"}, id="orderId-missing"),
        pytest.param({"orderId": "1"}, id="userId-missing"),
        pytest.param(None, id="detail-null"),
    ],
)
def test_an_event_that_is_not_an_order_fails_at_once_with_a_named_error(shop: Shop, detail) -> None:
    execution = shop.sfn.start_execution(
        stateMachineArn=shop.processor_arn, input=json.dumps({"detail": detail})
    )

    finished = shop.finished(execution["executionArn"])

    assert (finished["status"], finished["error"]) == ("FAILED", "InvalidOrderEvent")
    assert shop.visited_states(execution["executionArn"]) == ["Is it a valid order?", "Not a valid order"]
    assert shop.visited_states(execution["executionArn"]) == order_processor_path("not an order")
    emulator.settle()
    assert shop.events() == []
    assert shop.order("1") is None


def test_a_closed_shop_refuses_an_input_without_detail_by_name_not_as_a_runtime_error(shop: Shop) -> None:
    shop.set_store_open(False)

    execution = shop.sfn.start_execution(stateMachineArn=shop.processor_arn, input="{}")

    finished = shop.finished(execution["executionArn"])
    assert (finished["status"], finished["error"]) == ("FAILED", "InvalidOrderEvent")
    assert shop.visited_states(execution["executionArn"]) == ["Is it a valid order?", "Not a valid order"]
    emulator.settle()
    assert shop.events() == []


def test_an_order_id_longer_than_a_key_may_be_is_refused_before_it_holds_a_slot(shop: Shop) -> None:
    execution = shop.start_processor("x" * 1025, "1")

    finished = shop.finished(execution)

    assert (finished["status"], finished["error"]) == ("FAILED", "InvalidOrderEvent")
    assert "1024 bytes" in finished["cause"]
    assert "ListExecutions" not in shop.visited_states(execution)
    emulator.settle()
    assert shop.events() == []


def test_a_customer_id_longer_than_a_key_may_be_ends_the_run_within_seconds_without_an_order(
    make_shop,
) -> None:
    shop = make_shop(customer_timeout_seconds=120)
    execution = shop.start_processor("1", "u" * 2049)

    finished = shop.finished(execution)

    assert (finished["status"], finished["error"]) == ("FAILED", "InvalidOrderEvent")
    assert "userId" in finished["cause"]
    emulator.settle()
    assert shop.order("1") is None
    assert "OrderProcessor.OrderTimeOut" not in _events_of(shop, "1")
