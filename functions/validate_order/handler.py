"""ValidateOrder: the OrderManager's menu check; answers ``{valid, reason}`` and never fails the task."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from menu_rules import validate_request

logger = Logger()


@logger.inject_lambda_context(clear_state=True)
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    verdict = validate_request(event)
    order_id = event.get("orderId") if isinstance(event, dict) else None
    logger.info(
        "Order checked against the menu",
        extra={"orderId": str(order_id)[:80], "valid": verdict.valid, "reason": verdict.reason},
    )
    return verdict.as_payload()
