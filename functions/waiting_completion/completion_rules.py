"""What an ``OrderProcessor.WaitingCompletion`` event means: number the order, then tell the baristas.

The order table update is made first (it stores token #2, which complete/cancel need); what follows
depends on the stored order, decided here by ``next_step`` without any AWS call.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shop_common import (
    MAX_ORDER_ID_BYTES,
    MAX_TASK_TOKEN_BYTES,
    MAX_USER_ID_BYTES,
    OPEN_STATE,
    ORDERS_PARTITION,
    event_detail,
    text_field,
)

DETAIL_TYPE = "OrderProcessor.WaitingCompletion"
ANNOUNCED_DETAIL_TYPE = "OrderManager.WaitingCompletion"
MAX_ORDER_NUMBER_BYTES = 64  # the counter's value as decimal text


@dataclass(frozen=True)
class NumberedOrder:
    order_id: str
    user_id: str
    task_token: str
    order_number: str


@dataclass(frozen=True)
class EndWorkflow:
    """The order was closed before the drink was chosen: resume token #2 so the run finishes now."""

    task_token: str
    state: str


@dataclass(frozen=True)
class HoldWithoutDrink:
    """The order has no usable drink: keep the number and token, announce nothing."""

    problem: str


@dataclass(frozen=True)
class AnnounceToBaristas:
    detail: dict[str, Any]


NextStep = EndWorkflow | HoldWithoutDrink | AnnounceToBaristas


def parse_waiting_completion(event: Any) -> NumberedOrder:
    detail = event_detail(event, DETAIL_TYPE)
    return NumberedOrder(
        order_id=text_field(detail, "orderId", MAX_ORDER_ID_BYTES),
        user_id=text_field(detail, "userId", MAX_USER_ID_BYTES),
        task_token=text_field(detail, "TaskToken", MAX_TASK_TOKEN_BYTES),
        order_number=text_field(detail, "orderNumber", MAX_ORDER_NUMBER_BYTES),
    )


def numbering_update(order: NumberedOrder, now_ms: int) -> dict[str, Any]:
    """``Table.update_item`` arguments: only the customer's own order gets the number (no stub items)."""
    return {
        "Key": {"PK": ORDERS_PARTITION, "SK": order.order_id},
        "UpdateExpression": "SET #ts = :ts, #token = :token, #number = :number",
        "ConditionExpression": "#user = :user",
        "ExpressionAttributeNames": {
            "#ts": "TS",
            "#token": "TaskToken",
            "#number": "orderNumber",
            "#user": "USERID",
        },
        "ExpressionAttributeValues": {
            ":ts": now_ms,
            ":token": order.task_token,
            ":number": order.order_number,
            ":user": order.user_id,
        },
        "ReturnValues": "ALL_NEW",
    }


def next_step(record: Mapping[str, Any], order: NumberedOrder) -> NextStep:
    """Decide from the updated order item (``ALL_NEW``) what happens after the number is stored."""
    state = record.get("ORDERSTATE")
    if state != OPEN_STATE:
        return EndWorkflow(task_token=order.task_token, state=str(state))
    drink_order = record.get("drinkOrder")
    if drink_order is None:
        return HoldWithoutDrink("the order has no drinkOrder")
    if not isinstance(drink_order, str):
        return HoldWithoutDrink(f"drinkOrder is stored as {type(drink_order).__name__}, not JSON text")
    try:
        parsed = json.loads(drink_order)
    except ValueError:
        return HoldWithoutDrink("drinkOrder is not valid JSON")
    if not isinstance(parsed, dict):
        return HoldWithoutDrink("drinkOrder is not a JSON object")
    return AnnounceToBaristas(
        {
            "orderId": order.order_id,
            "orderNumber": order.order_number,
            "state": state,
            "drinkOrder": parsed,
            "userId": order.user_id,
            "robot": record.get("robot") is True,
            "TS": int(record["TS"]),
            "Message": f"Order {order.order_number} is waiting for a barista to make it.",
        }
    )
