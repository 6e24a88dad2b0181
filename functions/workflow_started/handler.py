"""WorkflowStarted: record a new order as CREATED, with the task token that resumes its workflow."""

from __future__ import annotations

import time
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from order_item import order_item, parse_workflow_started
from shop_common import MalformedEvent, required_env

logger = Logger()
orders = boto3.resource("dynamodb").Table(required_env("ORDER_TABLE_NAME"))


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> None:
    try:
        order = parse_workflow_started(event)
    except MalformedEvent as problem:
        logger.error(
            "Rejected a malformed WorkflowStarted event; no order written", extra={"problem": str(problem)}
        )
        raise
    orders.put_item(Item=order_item(order, now_ms=time.time_ns() // 1_000_000))
    logger.info("Order created", extra={"orderId": order.order_id, "userId": order.user_id})
