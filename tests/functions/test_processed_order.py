"""ProcessedOrder (rule ProcessedOrderstoLambda): an `Order Processed` event becomes one OrderDetails item
and one `Order Dispatched` event with the same new order id; a redelivery stores nothing twice; a
malformed event writes and announces nothing."""

from __future__ import annotations

import uuid
from decimal import Decimal

import boto3
import pytest
from shop_common import MalformedEvent

SOURCE = "com.aws.orders"


@pytest.fixture
def processed(mocked_aws, load_function, event_tap):
    table = boto3.resource("dynamodb", region_name="us-east-1").create_table(
        TableName="order-details",
        KeySchema=[{"AttributeName": "orderId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "orderId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    boto3.client("events", region_name="us-east-1").create_event_bus(Name="orders")
    tap = event_tap("orders", SOURCE)
    env = {"ORDER_TABLE_NAME": "order-details", "EVENT_BUS_NAME": "orders", "EVENT_SOURCE": SOURCE}
    handler = load_function("processed_order", env)
    handler.table, handler.events = table, tap
    return handler


def order_processed(eventbridge_event, details):
    return eventbridge_event("Order Processed", {"OrderId": "new_id", "OrderDetails": details}, SOURCE)


EU_ORDER = {"category": "office-supplies", "location": "eu-west", "value": 300}


def test_the_order_is_stored_under_a_new_uuid_and_dispatched_with_that_id(
    processed, lambda_context, eventbridge_event
):
    answer = processed(order_processed(eventbridge_event, EU_ORDER), lambda_context)

    [item] = processed.table.scan()["Items"]
    assert uuid.UUID(item["orderId"]).version == 5
    assert item == {"orderId": answer["orderId"], **EU_ORDER, "value": Decimal(300)}
    [dispatched] = processed.events.received()
    assert (dispatched["source"], dispatched["detail-type"]) == (SOURCE, "Order Dispatched")
    assert dispatched["detail"] == {"orderId": item["orderId"], **EU_ORDER}


def test_two_orders_get_two_different_ids(processed, lambda_context, eventbridge_event):
    processed(order_processed(eventbridge_event, EU_ORDER), lambda_context)
    processed(order_processed(eventbridge_event, EU_ORDER), lambda_context)

    ids = {item["orderId"] for item in processed.table.scan()["Items"]}
    assert len(ids) == 2


def test_a_redelivered_event_stores_the_order_once_and_announces_the_same_id(
    processed, lambda_context, eventbridge_event
):
    event = order_processed(eventbridge_event, {**EU_ORDER, "value": 12.5})

    first = processed(event, lambda_context)
    again = processed(event, lambda_context)

    assert first == again
    [item] = processed.table.scan()["Items"]
    assert item["value"] == Decimal("12.5")
    assert [e["detail"]["orderId"] for e in processed.events.received()] == [first["orderId"]] * 2


@pytest.mark.parametrize(
    "details",
    [
        {"location": "eu-west", "value": 300},
        {"category": "office-supplies", "location": "eu-west", "value": "300"},
        {"category": "office-supplies", "location": "eu-west", "value": True},
        {"category": "office-supplies", "location": "eu-west", "value": -1},
        {"category": "office-supplies", "location": "", "value": 300},
        "office-supplies",
        None,
    ],
)
def test_a_malformed_order_fails_and_writes_and_announces_nothing(
    processed, lambda_context, eventbridge_event, details
):
    with pytest.raises(MalformedEvent):
        processed(order_processed(eventbridge_event, details), lambda_context)

    assert processed.table.scan()["Items"] == []
    assert processed.events.received() == []


def test_an_event_of_another_type_is_refused(processed, lambda_context, eventbridge_event):
    with pytest.raises(MalformedEvent, match="Order Processed"):
        processed(eventbridge_event("Order Dispatched", {"OrderDetails": EU_ORDER}, SOURCE), lambda_context)

    assert processed.table.scan()["Items"] == []
