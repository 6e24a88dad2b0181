"""SYSTEM.md §10 scenarios 2, 5 to 10 and 13 to 16 through the real program in the local cloud."""

from __future__ import annotations

import datetime
import json

from tests.e2e.conftest import (
    choose,
    detail_types,
    eventually,
    execution_of,
    finished,
    logged_events,
    manage,
    new_id,
    order,
    park,
    to_barista,
    visited_states,
)


def test_new_order_event_starts_a_workflow_that_parks_for_the_customer(local_cloud):
    order_id = new_id()

    item = park(local_cloud, order_id, user_id="testuser")

    assert item["ORDERSTATE"] == "CREATED"
    assert item["USERID"] == "testuser"
    assert "orderNumber" not in item
    assert execution_of(local_cloud, order_id)["status"] == "RUNNING"
    started = eventually(
        lambda: [
            e
            for e in logged_events(local_cloud, order_id)
            if e["detail-type"] == "OrderProcessor.WorkflowStarted"
        ],
        "WorkflowStarted",
    )
    assert started[0]["detail"]["TaskToken"] == item["TaskToken"]


def test_valid_drink_numbers_the_order_and_announces_it_for_the_barista(local_cloud):
    order_id = new_id()

    item = to_barista(local_cloud, order_id)

    assert json.loads(item["drinkOrder"])["drink"] == "Cappuccino"
    waiting = eventually(
        lambda: [
            e
            for e in logged_events(local_cloud, order_id)
            if e["detail-type"] == "OrderManager.WaitingCompletion"
        ],
        "WaitingCompletion",
    )
    assert waiting[0]["detail"]["drinkOrder"]["drink"] == "Cappuccino"
    assert waiting[0]["detail"]["orderNumber"] == item["orderNumber"]


def test_invalid_drink_is_refused_and_leaves_the_order_parked(local_cloud):
    order_id = new_id()
    park(local_cloud, order_id)

    milkshake = choose(local_cloud, order_id, drink={"drink": "milkshake", "modifiers": [], "icon": ""})
    place_order = choose(
        local_cloud, order_id, drink={"drink": "milkshake", "modifiers": [], "icon": ""}, action="placeOrder"
    )

    assert (milkshake["status"], milkshake["error"]) == ("FAILED", "InvalidOrder")
    assert (place_order["status"], place_order["error"]) == ("FAILED", "InvalidOrder")
    assert "drinkOrder" not in order(local_cloud, order_id)
    assert execution_of(local_cloud, order_id)["status"] == "RUNNING"


def test_full_journey_make_then_complete_finishes_the_workflow(local_cloud):
    order_id = new_id()
    to_barista(local_cloud, order_id)

    made = manage(local_cloud, "make", order_id)
    assert made["status"] == "SUCCEEDED", made
    assert order(local_cloud, order_id)["baristaUserId"] == "3"
    assert execution_of(local_cloud, order_id)["status"] == "RUNNING"
    completed = manage(local_cloud, "complete", order_id)

    assert completed["status"] == "SUCCEEDED", completed
    assert order(local_cloud, order_id)["ORDERSTATE"] == "COMPLETED"
    assert finished(local_cloud, order_id)["status"] == "SUCCEEDED"
    kinds = eventually(
        lambda: (
            "OrderProcessor.orderFinished" in detail_types(local_cloud, order_id)
            and detail_types(local_cloud, order_id)
        ),
        "orderFinished",
    )
    assert kinds.index("OrderManager.MakeOrder") < kinds.index("OrderManager.OrderCompleted")
    assert kinds.index("OrderManager.OrderCompleted") < kinds.index("OrderProcessor.orderFinished")
    done = next(
        e for e in logged_events(local_cloud, order_id) if e["detail-type"] == "OrderManager.OrderCompleted"
    )
    assert (done["detail"]["userId"], done["detail"]["ORDERSTATE"]) == ("1", "COMPLETED")


def test_unmake_then_cancel_clears_the_barista_and_cancels(local_cloud):
    order_id = new_id()
    to_barista(local_cloud, order_id)
    manage(local_cloud, "make", order_id)

    unmade = manage(local_cloud, "unmake", order_id)
    assert unmade["status"] == "SUCCEEDED", unmade
    assert order(local_cloud, order_id)["baristaUserId"] == ""
    cancelled = manage(local_cloud, "cancel", order_id)

    assert cancelled["status"] == "SUCCEEDED", cancelled
    assert order(local_cloud, order_id)["ORDERSTATE"] == "CANCELLED"
    assert finished(local_cloud, order_id)["status"] == "SUCCEEDED"
    kinds = eventually(
        lambda: (
            "OrderProcessor.orderFinished" in detail_types(local_cloud, order_id)
            and detail_types(local_cloud, order_id)
        ),
        "orderFinished",
    )
    assert kinds.count("OrderManager.MakeOrder") == 2
    assert "OrderManager.OrderCancelled" in kinds


def test_unknown_order_is_not_found_and_no_item_appears(local_cloud):
    order_id = new_id("nope")

    answers = [manage(local_cloud, action, order_id) for action in ("complete", "cancel", "make")]

    assert [(a["status"], a["error"]) for a in answers] == [("FAILED", "OrderNotFound")] * 3
    assert order(local_cloud, order_id) is None
    local_cloud.settle()
    assert logged_events(local_cloud, order_id) == []


def test_missing_drink_order_still_numbers_the_order_without_announcing_it(local_cloud):
    order_id = new_id()
    token = park(local_cloud, order_id)["TaskToken"]

    local_cloud.client("stepfunctions").send_task_success(taskToken=token, output=json.dumps({"orderId": 1}))

    item = eventually(
        lambda: (order(local_cloud, order_id) or {}).get("orderNumber") and order(local_cloud, order_id),
        "an order number",
    )
    assert item["TaskToken"] != token
    local_cloud.settle()
    assert "OrderManager.WaitingCompletion" not in detail_types(local_cloud, order_id)
    waiting_completion = local_cloud.function_name("waiting-completion")
    assert local_cloud.usage["lambda"][waiting_completion]["errors"] == 0


def test_every_event_of_a_journey_is_in_the_all_events_log(local_cloud):
    order_id = new_id()
    to_barista(local_cloud, order_id, user_id="testuser2")
    manage(local_cloud, "complete", order_id)
    finished(local_cloud, order_id)
    local_cloud.settle()

    events = logged_events(local_cloud, order_id)

    kinds = {event["detail-type"] for event in events}
    assert {
        "Validator.NewOrder",
        "OrderProcessor.WorkflowStarted",
        "OrderProcessor.WaitingCompletion",
        "OrderManager.WaitingCompletion",
        "OrderManager.OrderCompleted",
        "OrderProcessor.orderFinished",
    } <= kinds
    assert {event["source"] for event in events} == {local_cloud.outputs["eventSource"]}
    started = next(e for e in events if e["detail-type"] == "OrderProcessor.WorkflowStarted")
    assert started["detail"]["TaskToken"]


def test_barista_timeout_cancels_the_order_with_its_reason(local_cloud):
    order_id = new_id()
    to_barista(local_cloud, order_id)

    run = finished(local_cloud, order_id, limit=30)

    assert run["status"] == "SUCCEEDED"
    assert "Barista timedout" in visited_states(local_cloud, run["executionArn"])
    item = eventually(
        lambda: (order(local_cloud, order_id) or {}).get("reason") and order(local_cloud, order_id),
        "the timeout reason",
    )
    assert (item["ORDERSTATE"], item["reason"]) == ("CANCELLED", "Barista timedout")
    kinds = detail_types(local_cloud, order_id)
    assert "OrderProcessor.OrderTimeOut" in kinds
    assert "OrderProcessor.orderFinished" not in kinds


def test_one_order_counts_one_sale_in_the_metrics_table_and_cloudwatch(local_cloud):
    table = local_cloud.table("metrics-table")
    today = datetime.datetime.now(datetime.UTC).date().isoformat()

    def count(key: str) -> int:
        return int(
            table.get_item(Key={"PK": "Aggregate", "SK": f"{today}#{key}"}).get("Item", {}).get("val", 0)
        )

    local_cloud.settle()
    before = (count("TotalSales"), count("Cappuccino"))
    to_barista(local_cloud, new_id())
    local_cloud.settle()

    assert (count("TotalSales"), count("Cappuccino")) == (before[0] + 1, before[1] + 1)
