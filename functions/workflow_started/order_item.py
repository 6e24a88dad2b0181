"""What an ``OrderProcessor.WorkflowStarted`` event means for the order table: a new CREATED order."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent

DETAIL_TYPE = "OrderProcessor.WorkflowStarted"
ORDERS_PARTITION = "orders"
# DynamoDB key limits: orderId is the table's sort key, userId the GSI-userId partition key.
MAX_ORDER_ID_BYTES = 1024
MAX_USER_ID_BYTES = 2048
MAX_TASK_TOKEN_BYTES = 2048


class MalformedEvent(ValueError):
    """The event cannot be turned into an order; nothing must be written."""


@dataclass(frozen=True)
class StartedOrder:
    order_id: str
    user_id: str
    task_token: str
    robot: bool


def parse_workflow_started(event: Any) -> StartedOrder:
    detail = event_detail(event, DETAIL_TYPE)
    robot = detail.get("robot", False)
    if not isinstance(robot, bool):
        raise MalformedEvent(f"detail.robot must be true or false, got {type(robot).__name__}")
    return StartedOrder(
        order_id=text_field(detail, "orderId", MAX_ORDER_ID_BYTES),
        user_id=text_field(detail, "userId", MAX_USER_ID_BYTES),
        task_token=text_field(detail, "TaskToken", MAX_TASK_TOKEN_BYTES),
        robot=robot,
    )


def order_item(order: StartedOrder, now_ms: int) -> dict[str, Any]:
    return {
        "PK": ORDERS_PARTITION,
        "SK": order.order_id,
        "USERID": order.user_id,
        "ORDERSTATE": "CREATED",
        "TaskToken": order.task_token,
        "robot": order.robot,
        "TS": now_ms,
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
