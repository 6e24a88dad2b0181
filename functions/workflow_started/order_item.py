"""What an ``OrderProcessor.WorkflowStarted`` event means for the order table: a new CREATED order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shop_common import (
    MAX_ORDER_ID_BYTES,
    MAX_TASK_TOKEN_BYTES,
    MAX_USER_ID_BYTES,
    ORDERS_PARTITION,
    MalformedEvent,
    event_detail,
    text_field,
)

DETAIL_TYPE = "OrderProcessor.WorkflowStarted"


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
