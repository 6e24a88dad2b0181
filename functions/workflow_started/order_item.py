"""What an ``OrderProcessor.WorkflowStarted`` event means for the order table: a new CREATED order, once.

- ``run_problem``: the event must come from a RUNNING OrderProcessor run for this very order (its
  ``executionId``, input ``orderId`` and ``userId``), or it is forged or stale and nothing is written;
- ``order_put``: the order id is claimed by a conditional put;
- ``after_conflict``: when the id is already taken, a redelivery of the same run's event (nothing to do)
  is told apart from a second run for the id (a duplicated ``Validator.NewOrder``, whoever sent it), which
  is stopped without touching the order.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shop_common import (
    MAX_EXECUTION_ID_BYTES,
    MAX_ORDER_ID_BYTES,
    MAX_TASK_TOKEN_BYTES,
    MAX_USER_ID_BYTES,
    ORDERS_PARTITION,
    MalformedEvent,
    event_detail,
    readable_text,
    text_field,
)

DETAIL_TYPE = "OrderProcessor.WorkflowStarted"
# Errors the OrderProcessor catches on its customer wait (asl/order_processor.asl.json).
DUPLICATE_ORDER = "DuplicateOrder"
INVALID_ORDER_EVENT = "InvalidOrderEvent"


@dataclass(frozen=True)
class StartedOrder:
    order_id: str
    user_id: str
    task_token: str
    execution_id: str
    robot: bool


@dataclass(frozen=True)
class RunClaim:
    """What an event says about its run, read as far as it can be (also from a malformed event)."""

    execution_id: str
    task_token: str
    order_id: Any
    user_id: Any


@dataclass(frozen=True)
class AlreadyRecorded:
    """The same run's event again (EventBridge delivers at least once): the order stays as it is."""


@dataclass(frozen=True)
class StopDuplicateRun:
    """Another run holds the order id: this run is told to end, the order stays as it is."""

    task_token: str
    cause: str


TRADING_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_workflow_started(event: Any) -> StartedOrder:
    detail = event_detail(event, DETAIL_TYPE)
    robot = detail.get("robot", False)
    if not isinstance(robot, bool):
        raise MalformedEvent(f"detail.robot must be true or false, got {type(robot).__name__}")
    # The day the order is numbered in: a counter's key, so nothing but a date may reach it.
    day = detail.get("tradingDay")
    if day is not None and not (isinstance(day, str) and TRADING_DAY.fullmatch(day)):
        raise MalformedEvent(f"detail.tradingDay must be a date like 2026-12-06, got {str(day)[:40]!r}")
    return StartedOrder(
        order_id=text_field(detail, "orderId", MAX_ORDER_ID_BYTES),
        user_id=text_field(detail, "userId", MAX_USER_ID_BYTES),
        task_token=text_field(detail, "TaskToken", MAX_TASK_TOKEN_BYTES),
        execution_id=text_field(detail, "executionId", MAX_EXECUTION_ID_BYTES),
        robot=robot,
    )


def claim_of(event: Any) -> RunClaim | None:
    """The run a WorkflowStarted event claims to come from, if it names one and its token; else None."""
    try:
        detail = event_detail(event, DETAIL_TYPE)
    except MalformedEvent:
        return None
    execution_id = readable_text(detail, "executionId", MAX_EXECUTION_ID_BYTES)
    task_token = readable_text(detail, "TaskToken", MAX_TASK_TOKEN_BYTES)
    if execution_id is None or task_token is None:
        return None
    return RunClaim(execution_id, task_token, detail.get("orderId"), detail.get("userId"))


def claim_of_order(order: StartedOrder) -> RunClaim:
    return RunClaim(order.execution_id, order.task_token, order.order_id, order.user_id)


def run_problem(described: Mapping[str, Any], claim: RunClaim, processor_arn: str) -> str | None:
    """Why ``DescribeExecution``'s answer does not back the event, or None when it does."""
    if described.get("stateMachineArn") != processor_arn:
        return "the execution is not one of this shop's OrderProcessor"
    if described.get("status") != "RUNNING":
        return f"the run is {described.get('status')}, not RUNNING"
    try:
        run_detail = json.loads(described.get("input") or "{}").get("detail")
    except (ValueError, AttributeError):
        run_detail = None
    if not isinstance(run_detail, Mapping):
        return "the run was not started by an order event"
    if (run_detail.get("orderId"), run_detail.get("userId")) != (claim.order_id, claim.user_id):
        return "the run was started for another order or customer"
    return None


def order_put(order: StartedOrder, now_ms: int) -> dict[str, Any]:
    """``Table.put_item`` arguments: the order is created only if its id is not taken (D12)."""
    return {
        "Item": {
            "PK": ORDERS_PARTITION,
            "SK": order.order_id,
            "USERID": order.user_id,
            "ORDERSTATE": "CREATED",
            "TaskToken": order.task_token,
            "executionId": order.execution_id,
            "robot": order.robot,
            "TS": now_ms,
        },
        "ConditionExpression": "attribute_not_exists(PK)",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def after_conflict(existing: Mapping[str, Any], order: StartedOrder) -> AlreadyRecorded | StopDuplicateRun:
    """The order id was taken: by this very run (a redelivery) or by another one."""
    if existing.get("executionId") == order.execution_id:
        return AlreadyRecorded()
    return StopDuplicateRun(
        task_token=order.task_token,
        cause=f"Order {order.order_id[:80]!r} already belongs to another run; this run leaves it alone.",
    )
