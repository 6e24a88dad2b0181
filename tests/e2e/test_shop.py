"""SYSTEM.md §10 scenarios 3, 4, 11 and 12 on a fresh stack: numbering, capacity, customer timeouts, and
seeds that survive an update (scenario 1, the closed shop, runs through the API in test_realtime.py).
Order matters here (one stack, counter from 0)."""

from __future__ import annotations

from tests.e2e.conftest import (
    counter,
    detail_types,
    eventually,
    finished,
    new_id,
    order,
    set_store_open,
    to_barista,
    visited_states,
)

CUSTOMER_TIMEOUT, BARISTA_TIMEOUT = 3, 6  # the local stack's


def test_order_numbers_count_up_from_one_on_a_fresh_stack(local_cloud):
    numbers = [to_barista(local_cloud, new_id())["orderNumber"] for _ in range(3)]

    assert numbers == ["1", "2", "3"]
    assert counter(local_cloud) == 3


def test_an_update_keeps_the_counter_the_shop_state_and_the_menu(local_cloud):
    config = local_cloud.table("shop-data-config")
    set_store_open(local_cloud, False)
    menu = config.get_item(Key={"PK": "menu"})["Item"]

    local_cloud.deploy(config={"logRetentionDays": 3})

    assert counter(local_cloud) == 3
    assert config.get_item(Key={"PK": "config"})["Item"]["storeOpen"] is False
    assert config.get_item(Key={"PK": "menu"})["Item"] == menu
    set_store_open(local_cloud, True)


def test_the_order_beyond_capacity_is_turned_away_and_the_parked_ones_time_out(local_cloud):
    sfn = local_cloud.client("stepfunctions")
    processor = local_cloud.outputs["orderProcessorArn"]
    local_cloud.advance(CUSTOMER_TIMEOUT + BARISTA_TIMEOUT)  # the earlier tests' orders time out
    assert not sfn.list_executions(stateMachineArn=processor, statusFilter="RUNNING")["executions"]
    parked = [new_id() for _ in range(20)]
    for order_id in parked:
        local_cloud.put_event("Validator.NewOrder", {"orderId": order_id, "userId": "testuser"})
    local_cloud.settle()
    extra = new_id()

    local_cloud.put_event("Validator.NewOrder", {"orderId": extra, "userId": "testuser"})
    rejected = finished(local_cloud, extra)

    assert "Is capacity available?" in visited_states(local_cloud, rejected["executionArn"])
    assert "Emit - Shop not ready" in visited_states(local_cloud, rejected["executionArn"])
    assert order(local_cloud, extra) is None
    local_cloud.settle()
    assert "OrderProcessor.ShopUnavailable" in detail_types(local_cloud, extra)
    assert all(order(local_cloud, order_id)["ORDERSTATE"] == "CREATED" for order_id in parked[:1])
    first = finished(local_cloud, parked[0])
    assert first["status"] == "SUCCEEDED"
    assert "Customer timedout" in visited_states(local_cloud, first["executionArn"])
    item = eventually(
        lambda: (order(local_cloud, parked[0]) or {}).get("reason") and order(local_cloud, parked[0]),
        "the timeout reason",
    )
    assert (item["ORDERSTATE"], item["reason"]) == ("CANCELLED", "Customer timedout")
    assert "OrderProcessor.OrderTimeOut" in detail_types(local_cloud, parked[0])
    for order_id in parked[1:]:
        assert finished(local_cloud, order_id)["status"] == "SUCCEEDED"
