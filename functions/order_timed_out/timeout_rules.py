"""What an ``OrderProcessor.OrderTimeOut`` event means: the still-open order is cancelled, with the cause."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shop_common import (
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


def parse_order_timeout(event: Any) -> TimedOutOrder:
    detail = event_detail(event, DETAIL_TYPE)
    order_id = text_field(detail, "orderId", MAX_ORDER_ID_BYTES)
    cause = detail.get("cause")
    if not isinstance(cause, str) or cause not in TIMEOUT_CAUSES:
        raise MalformedEvent(f"detail.cause must be one of {sorted(TIMEOUT_CAUSES)}, got {str(cause)[:80]!r}")
    return TimedOutOrder(order_id=order_id, cause=cause)


def cancellation_update(order: TimedOutOrder, now_ms: int) -> dict[str, Any]:
    """``Table.update_item`` arguments: only an existing order still waiting (CREATED) is cancelled."""
    return {
        "Key": {"PK": ORDERS_PARTITION, "SK": order.order_id},
        "UpdateExpression": "SET #state = :cancelled, #reason = :reason, #ts = :ts",
        "ConditionExpression": "attribute_exists(#pk) AND #state = :open",
        "ExpressionAttributeNames": {"#state": "ORDERSTATE", "#reason": "reason", "#ts": "TS", "#pk": "PK"},
        "ExpressionAttributeValues": {
            ":cancelled": CANCELLED_STATE,
            ":open": OPEN_STATE,
            ":reason": order.cause,
            ":ts": now_ms,
        },
    }
