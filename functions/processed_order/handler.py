"""ProcessedOrder (rule ProcessedOrderstoLambda): store the processed order in OrderDetails, then announce it
as `Order Dispatched` with the same order id.

A malformed event writes nothing and fails (Lambda retries it, then its dead-letter queue holds it). A
redelivered event finds its order already stored and announces it again with the same id, so a lost
announcement is never lost for good.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from dispatch import ORDER_DISPATCHED, parse_processed_order
from shop_common import MalformedEvent, required_env

logger = Logger()
order_details = boto3.resource("dynamodb").Table(required_env("ORDER_TABLE_NAME"))
events = boto3.client("events")
EVENT_BUS_NAME = required_env("EVENT_BUS_NAME")
EVENT_SOURCE = required_env("EVENT_SOURCE")


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    try:
        order = parse_processed_order(event)
    except MalformedEvent as problem:
        logger.error(
            "Rejected a malformed Order Processed event; nothing written", extra={"problem": str(problem)}
        )
        raise
    logger.append_keys(orderId=order.order_id)
    try:
        order_details.put_item(Item=order.item(), ConditionExpression="attribute_not_exists(orderId)")
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        logger.info("Order already stored by an earlier delivery of this event")
    answer = events.put_events(
        Entries=[
            {
                "EventBusName": EVENT_BUS_NAME,
                "Source": EVENT_SOURCE,
                "DetailType": ORDER_DISPATCHED,
                "Detail": json.dumps(order.detail()),
            }
        ]
    )
    if answer.get("FailedEntryCount"):
        raise RuntimeError(f"EventBridge refused the Order Dispatched event: {answer['Entries']}")
    logger.info("Order dispatched")
    return {"orderId": order.order_id}
