"""Order numbers restart on each trading day (the Validator names the day in the shop's time zone; an
event that names none is numbered in the UTC day its run started), are taken atomically, and are never
repeated within a day, with nothing to reset."""

from __future__ import annotations

import datetime
import json
from concurrent.futures import ThreadPoolExecutor

from tests.workflows.workflow_stack import CAPPUCCINO, Shop, eventually


def _numbered(shop: Shop, order_id: str, user_id: str, day: str | None) -> str:
    shop.park_order(order_id, user_id, trading_day=day)
    shop.choose_drink(order_id, {**CAPPUCCINO, "userId": user_id})
    return eventually(lambda: (shop.order(order_id) or {}).get("orderNumber"), f"order {order_id}'s number")


def test_each_trading_day_numbers_its_orders_from_one(shop: Shop) -> None:
    assert [_numbered(shop, f"a{n}", f"u{n}", "2026-12-06") for n in range(3)] == ["1", "2", "3"]
    assert _numbered(shop, "b0", "v0", "2026-12-07") == "1"
    assert _numbered(shop, "a3", "u3", "2026-12-06") == "4"  # a late order of the day before keeps counting
    counters = {
        item["PK"]["S"]: item["IDvalue"]["N"]
        for item in shop.ddb.scan(TableName=shop.counting_table)["Items"]
    }
    assert counters == {"orderID#2026-12-06": "4", "orderID#2026-12-07": "1"}


def test_an_event_naming_no_trading_day_is_numbered_in_the_utc_day(shop: Shop) -> None:
    before = datetime.datetime.now(datetime.UTC).date().isoformat()
    number = _numbered(shop, "console", "c", None)
    after = datetime.datetime.now(datetime.UTC).date().isoformat()
    counters = {item["PK"]["S"] for item in shop.ddb.scan(TableName=shop.counting_table)["Items"]}
    assert number == "1" and counters <= {f"orderID#{before}", f"orderID#{after}"} and len(counters) == 1


def test_fifty_orders_chosen_at_once_in_one_day_get_fifty_distinct_numbers(make_shop) -> None:
    shop = make_shop(capacity=60)
    ids = [f"o{n}" for n in range(50)]
    for n, order_id in enumerate(ids):
        shop.put_new_order(order_id, f"user-{n}", "2026-12-08")
    for order_id in ids:
        shop.wait_parked(order_id)
    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(lambda n: shop.choose_drink(ids[n], {**CAPPUCCINO, "userId": f"user-{n}"}), range(50)))
    numbers = [
        eventually(lambda order_id=order_id: (shop.order(order_id) or {}).get("orderNumber"), "a number")
        for order_id in ids
    ]
    assert sorted(int(number) for number in numbers) == list(range(1, 51))


def test_a_trading_day_that_is_not_a_date_stops_the_run_before_it_holds_anything(shop: Shop) -> None:
    for order_id, day in (("not-a-string", 20261206), ("not-a-date", "x" * 3000)):
        shop.events_client.put_events(
            Entries=[
                {
                    "EventBusName": shop.bus,
                    "Source": "awsserverlessda.serverlesspresso",
                    "DetailType": "Validator.NewOrder",
                    "Detail": json.dumps({"orderId": order_id, "userId": "1", "tradingDay": day}),
                }
            ]
        )
        ended = shop.finished(shop.execution_for(order_id))
        assert ended["status"] == "FAILED", ended
        assert shop.counter() == 0
