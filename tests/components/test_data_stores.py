"""DataStores: the seed items are exactly the shop's opening state, in DynamoDB's typed JSON."""

from __future__ import annotations

import json

from boto3.dynamodb.types import TypeDeserializer

from components.data_stores import DataStores
from config import DataProtection
from localcloud import program

OPEN = DataProtection(point_in_time_recovery=False, deletion_protection=False, retain=False)


def seeded(protection=OPEN):
    run = program.run("dev", lambda: DataStores("data", protection=protection))
    deserialize = TypeDeserializer().deserialize
    items = {}
    for item in run.of_type("aws:dynamodb/tableItem:TableItem"):
        typed = json.loads(item.inputs["item"])
        items[item.name] = (item, {k: deserialize(v) for k, v in typed.items()})
    return run, items


def test_shop_opens_with_the_store_open_and_no_counter_to_reset():
    run, items = seeded()
    config_item, config = items["data-seed-config"]
    assert config == {"PK": "config", "storeOpen": True, "maxOrdersPerUser": 1, "maxOrdersInQueue": 10}
    assert (
        config_item.inputs["tableName"] == run.named("data-config", "aws:dynamodb/table:Table").state["name"]
    )
    # Each trading day's first order makes that day's counter: nothing is seeded into the counting table.
    counting = run.named("data-counting", "aws:dynamodb/table:Table").state["name"]
    assert [item for item, _ in items.values() if item.inputs["tableName"] == counting] == []


def test_menu_offers_the_six_drinks_available_without_modifiers():
    _, items = seeded()
    _, menu = items["data-seed-menu"]
    drinks = [entry["drink"] for entry in menu["value"]]
    assert drinks == ["Espresso", "Cappuccino", "Latte", "Flat White", "Americano", "Coffee of the day"]
    assert all(entry["available"] is True and entry["modifiers"] == [] for entry in menu["value"])


def test_protection_settings_reach_every_table():
    guarded = DataProtection(point_in_time_recovery=True, deletion_protection=True, retain=True)
    run, _ = seeded(guarded)
    tables = run.of_type("aws:dynamodb/table:Table")
    assert len(tables) == 3
    for table in tables:
        assert table.protect and table.retain_on_delete
        assert table.inputs["pointInTimeRecovery"] == {"enabled": True}
        assert table.inputs["billingMode"] == "PAY_PER_REQUEST"
