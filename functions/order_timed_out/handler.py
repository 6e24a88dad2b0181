"""OrderTimedOut: an order nobody finished in time leaves CREATED and becomes CANCELLED with the cause."""

from __future__ import annotations

import time
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from shop_common import MalformedEvent, required_env
from timeout_rules import cancellation_update, parse_order_timeout

logger = Logger()
orders = boto3.resource("dynamodb").Table(required_env("ORDER_TABLE_NAME"))


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> None:
    try:
        order = parse_order_timeout(event)
    except MalformedEvent as problem:
        logger.error(
            "Rejected a malformed OrderTimeOut event; nothing written", extra={"problem": str(problem)}
        )
        raise
    logger.append_keys(orderId=order.order_id, cause=order.cause)
    try:
        orders.update_item(**cancellation_update(order, now_ms=time.time_ns() // 1_000_000))
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        logger.info("Order is unknown, no longer open or another run's; left as it is")
        return
    logger.info("Timed-out order cancelled")
