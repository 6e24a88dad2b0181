"""Ending the day (pure rules): which orders the end of the day cancels, how, and what the apps hear.

Every open order (`CREATED`) becomes `CANCELLED` with reason `Shop closed`, in one conditional write that
also marks it `closing`; then the apps hear `OrderManager.OrderCancelled` (as for a barista's cancel) and
its parked run is resumed so it ends now; then the mark is removed. A later call finds the orders still
marked (a call that stopped half-way) and finishes them; an order some other step finished first is left
alone. Nothing is counted as sold: only `OrderManager.WaitingCompletion` is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

REASON = "Shop closed"
OPEN, CANCELLED = "CREATED", "CANCELLED"
CANCELLED_BEFORE_THE_DRINK = "OrderCancelled"  # the OrderProcessor's catch at the customer's wait
MESSAGE = "The shop closed for the day, so the order was cancelled."


@dataclass(frozen=True)
class Closing:
    order_id: str
    user_id: str
    task_token: str
    numbered: bool  # the order has its number: its run waits for the barista, not for the customer

    @classmethod
    def of(cls, item: Mapping[str, Any]) -> Closing:
        return cls(
            order_id=str(item["SK"]),
            user_id=str(item.get("USERID", "")),
            task_token=str(item["TaskToken"]),
            numbered="orderNumber" in item,
        )

    def resume(self) -> dict[str, Any]:
        """How the run is resumed: at the barista's wait as a barista's cancel does; at the customer's wait
        with the error the OrderProcessor ends on without taking an order number."""
        if self.numbered:
            return {"action": "success", "output": '{"state": "CANCELLED", "reason": "Shop closed"}'}
        return {"action": "failure", "error": CANCELLED_BEFORE_THE_DRINK, "cause": REASON}

    def event_detail(self) -> dict[str, Any]:
        return {
            "orderId": self.order_id,
            "userId": self.user_id,
            "ORDERSTATE": CANCELLED,
            "reason": REASON,
            "Message": MESSAGE,
        }


def cancellation(order_id: str, now_ms: int) -> dict[str, Any]:
    """The conditional write that cancels one open order (never creates one, never touches a finished one)."""
    return {
        "Key": {"PK": "orders", "SK": order_id},
        "UpdateExpression": "SET ORDERSTATE = :cancelled, reason = :reason, closing = :now, TS = :now",
        "ConditionExpression": "attribute_exists(PK) AND ORDERSTATE = :open AND attribute_exists(TaskToken)",
        "ExpressionAttributeValues": {
            ":cancelled": CANCELLED,
            ":reason": REASON,
            ":open": OPEN,
            ":now": now_ms,
        },
        "ReturnValues": "ALL_NEW",
    }


def finished(order_id: str) -> dict[str, Any]:
    """Removes the mark once the order was announced and its run resumed."""
    return {
        "Key": {"PK": "orders", "SK": order_id},
        "UpdateExpression": "REMOVE closing",
        "ConditionExpression": "attribute_exists(closing)",
    }
