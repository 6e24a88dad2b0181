"""What an ``OrderProcessor.OrderTimeOut`` event means: the still-open order is cancelled, with the cause.

Only the order's own run (its ``executionId``) can time it out, and only while it is CREATED: a repeat of
the event, or a timeout from any other run, changes nothing (D12).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shop_common import (
    MAX_EXECUTION_ID_BYTES,
    MAX_ORDER_ID_BYTES,
    OPEN_STATE,
    ORDERS_PARTITION,
    MalformedEvent,
    event_detail,
    text_field,
)

DETAIL_TYPE = "OrderProcessor.OrderTimeOut"
CANCELLED_STATE = "CANCELLED"
TIMEOUT_CAUSES = frozenset({"Customer timedout", "Barista timedout"})


@dataclass(frozen=True)
class TimedOutOrder:
    order_id: str
    cause: str
    execution_id: str


def parse_order_timeout(event: Any) -> TimedOutOrder:
    detail = event_detail(event, DETAIL_TYPE)
    order_id = text_field(detail, "orderId", MAX_ORDER_ID_BYTES)
    cause = detail.get("cause")
    if not isinstance(cause, str) or cause not in TIMEOUT_CAUSES:
        raise MalformedEvent(f"detail.cause must be one of {sorted(TIMEOUT_CAUSES)}, got {str(cause)[:80]!r}")
    execution_id = text_field(detail, "executionId", MAX_EXECUTION_ID_BYTES)
    return TimedOutOrder(order_id=order_id, cause=cause, execution_id=execution_id)


def cancellation_update(order: TimedOutOrder, now_ms: int) -> dict[str, Any]:
    """``Table.update_item`` arguments: only the run's own order, still waiting (CREATED), is cancelled."""
    return {
        "Key": {"PK": ORDERS_PARTITION, "SK": order.order_id},
        "UpdateExpression": "SET #state = :cancelled, #reason = :reason, #ts = :ts",
        "ConditionExpression": "attribute_exists(#pk) AND #state = :open AND #run = :run",
        "ExpressionAttributeNames": {
            "#state": "ORDERSTATE",
            "#reason": "reason",
            "#ts": "TS",
            "#pk": "PK",
            "#run": "executionId",
        },
        "ExpressionAttributeValues": {
            ":cancelled": CANCELLED_STATE,
            ":open": OPEN_STATE,
            ":reason": order.cause,
            ":ts": now_ms,
            ":run": order.execution_id,
        },
    }
