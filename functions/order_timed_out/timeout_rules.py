"""What an ``OrderProcessor.OrderTimeOut`` event means: the still-open order is cancelled, with the cause."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent

DETAIL_TYPE = "OrderProcessor.OrderTimeOut"
ORDERS_PARTITION = "orders"
OPEN_STATE = "CREATED"
CANCELLED_STATE = "CANCELLED"
TIMEOUT_CAUSES = frozenset({"Customer timedout", "Barista timedout"})
MAX_ORDER_ID_BYTES = 1024  # orderId is the table's sort key


class MalformedEvent(ValueError):
    """The event cannot be applied to an order; nothing must be written."""


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


def event_detail(event: Any, expected_detail_type: str) -> Mapping[str, Any]:
    if not isinstance(event, Mapping):
        raise MalformedEvent(f"the event must be a JSON object, got {type(event).__name__}")
    envelope = EventBridgeEvent(dict(event))
    try:
        detail_type, detail = envelope.detail_type, envelope.detail
    except KeyError as missing:
        raise MalformedEvent(f"the event has no {missing}") from None
    if detail_type != expected_detail_type:
        raise MalformedEvent(f"detail-type must be {expected_detail_type!r}, got {str(detail_type)[:80]!r}")
    if not isinstance(detail, Mapping):
        raise MalformedEvent(f"detail must be a JSON object, got {type(detail).__name__}")
    return detail


def text_field(detail: Mapping[str, Any], name: str, max_bytes: int) -> str:
    value = detail.get(name)
    if not isinstance(value, str) or not value:
        raise MalformedEvent(f"detail.{name} must be a non-empty string")
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise MalformedEvent(f"detail.{name} is not valid Unicode text") from None
    if size > max_bytes:
        raise MalformedEvent(f"detail.{name} is {size} bytes, the limit is {max_bytes}")
    return value
