"""What an ``OrderProcessor.WaitingCompletion`` event means: number the order, then tell the baristas.

The order table update is made first (it stores token #2, which complete/cancel need), and only once: the
order's own run (``executionId``) numbers its own customer's order, and only an order without a number. A
repeat of that event (a redelivery, or an invocation retried after a failure) finds the order numbered
with this very token and picks up where the first one stopped: an order announced already is not announced
again (D12). What follows depends on the stored order, decided by ``next_step`` without any AWS call.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shop_common import (
    MAX_EXECUTION_ID_BYTES,
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
ANNOUNCED = "announced"  # order attribute: OrderManager.WaitingCompletion has been put on the bus


@dataclass(frozen=True)
class NumberedOrder:
    order_id: str
    user_id: str
    task_token: str
    order_number: str
    execution_id: str


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


@dataclass(frozen=True)
class AlreadyAnnounced:
    """A repeat of the event after the order was announced: nothing more to do."""


NextStep = EndWorkflow | HoldWithoutDrink | AnnounceToBaristas | AlreadyAnnounced


def parse_waiting_completion(event: Any) -> NumberedOrder:
    detail = event_detail(event, DETAIL_TYPE)
    return NumberedOrder(
        order_id=text_field(detail, "orderId", MAX_ORDER_ID_BYTES),
        user_id=text_field(detail, "userId", MAX_USER_ID_BYTES),
        task_token=text_field(detail, "TaskToken", MAX_TASK_TOKEN_BYTES),
        order_number=text_field(detail, "orderNumber", MAX_ORDER_NUMBER_BYTES),
        execution_id=text_field(detail, "executionId", MAX_EXECUTION_ID_BYTES),
    )


def numbering_update(order: NumberedOrder, now_ms: int) -> dict[str, Any]:
    """``Table.update_item`` arguments: the run's own customer's order, numbered once (no stub items)."""
    return {
        "Key": {"PK": ORDERS_PARTITION, "SK": order.order_id},
        "UpdateExpression": "SET #ts = :ts, #token = :token, #number = :number",
        "ConditionExpression": "#user = :user AND #run = :run AND attribute_not_exists(#number)",
        "ExpressionAttributeNames": {
            "#ts": "TS",
            "#token": "TaskToken",
            "#number": "orderNumber",
            "#user": "USERID",
            "#run": "executionId",
        },
        "ExpressionAttributeValues": {
            ":ts": now_ms,
            ":token": order.task_token,
            ":number": order.order_number,
            ":user": order.user_id,
            ":run": order.execution_id,
        },
        "ReturnValues": "ALL_NEW",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def is_repeat(current: Mapping[str, Any], order: NumberedOrder) -> bool:
    """The order was numbered by this very event before (same run, same customer, same token #2)."""
    return (
        current.get("USERID") == order.user_id
        and current.get("executionId") == order.execution_id
        and current.get("TaskToken") == order.task_token
        and current.get("orderNumber") == order.order_number
    )


def announced_update(order: NumberedOrder) -> dict[str, Any]:
    """``Table.update_item`` arguments: remember the announcement, on this run's numbered order only."""
    return {
        "Key": {"PK": ORDERS_PARTITION, "SK": order.order_id},
        "UpdateExpression": "SET #announced = :true",
        "ConditionExpression": "#token = :token",
        "ExpressionAttributeNames": {"#announced": ANNOUNCED, "#token": "TaskToken"},
        "ExpressionAttributeValues": {":true": True, ":token": order.task_token},
    }


def next_step(record: Mapping[str, Any], order: NumberedOrder) -> NextStep:
    """Decide from the numbered order item what happens next."""
    state = record.get("ORDERSTATE")
    if state != OPEN_STATE:
        return EndWorkflow(task_token=order.task_token, state=str(state))
    if record.get(ANNOUNCED) is True:
        return AlreadyAnnounced()
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
            "executionId": order.execution_id,
            "Message": f"Order {order.order_number} is waiting for a barista to make it.",
        }
    )
