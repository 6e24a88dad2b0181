"""WaitingCompletion: store the order number and token #2, then put the order in the baristas' queue, once."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError
from completion_rules import (
    ANNOUNCED_DETAIL_TYPE,
    AlreadyAnnounced,
    AnnounceToBaristas,
    EndWorkflow,
    HoldWithoutDrink,
    NumberedOrder,
    announced_update,
    is_repeat,
    next_step,
    numbering_update,
    parse_waiting_completion,
)
from shop_common import MalformedEvent, required_env


class EventNotDelivered(RuntimeError):
    """EventBridge refused the event; raising lets the asynchronous invocation retry."""


logger = Logger()
orders = boto3.resource("dynamodb").Table(required_env("ORDER_TABLE_NAME"))
EVENT_BUS_NAME = required_env("EVENT_BUS_NAME")
EVENT_SOURCE = required_env("EVENT_SOURCE")
events = boto3.client("events")
sfn = boto3.client("stepfunctions")
_deserializer = TypeDeserializer()


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> None:
    try:
        order = parse_waiting_completion(event)
    except MalformedEvent as problem:
        logger.error(
            "Rejected a malformed WaitingCompletion event; nothing written", extra={"problem": str(problem)}
        )
        raise
    logger.append_keys(orderId=order.order_id, orderNumber=order.order_number)
    record = numbered_order(order)
    if record is None:
        return

    step = next_step(record, order)
    if isinstance(step, EndWorkflow):
        end_workflow(step)
    elif isinstance(step, HoldWithoutDrink):
        logger.warning(f"Order numbered but not sent to the baristas: {step.problem}")
    elif isinstance(step, AlreadyAnnounced):
        logger.info("Order already sent to the baristas; not announced again")
    elif isinstance(step, AnnounceToBaristas):
        announce(order, step)


def numbered_order(order: NumberedOrder) -> dict[str, Any] | None:
    """The order as this event numbered it (now, or on an earlier delivery); None if it is not this run's."""
    try:
        return orders.update_item(**numbering_update(order, now_ms=time.time_ns() // 1_000_000))["Attributes"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        current = {k: _deserializer.deserialize(v) for k, v in error.response.get("Item", {}).items()}
    if is_repeat(current, order):
        logger.info("The same event again; the order keeps its number")
        return current
    logger.warning(
        "No open numbering for this run's order (unknown order, another customer's or run's, or numbered "
        "already); nothing changed",
        extra={"userId": order.user_id},
    )
    return None


def end_workflow(step: EndWorkflow) -> None:
    try:
        sfn.send_task_success(taskToken=step.task_token, output="{}")
    except (
        sfn.exceptions.TaskTimedOut,
        sfn.exceptions.TaskDoesNotExist,
        sfn.exceptions.InvalidToken,
    ) as error:
        logger.warning(
            "The order's workflow had already ended", extra={"error": error.response["Error"]["Code"]}
        )
        return
    logger.info(
        "Order already closed before its drink was chosen; its workflow was told to finish",
        extra={"state": step.state},
    )


def announce(order: NumberedOrder, step: AnnounceToBaristas) -> None:
    response = events.put_events(
        Entries=[
            {
                "EventBusName": EVENT_BUS_NAME,
                "Source": EVENT_SOURCE,
                "DetailType": ANNOUNCED_DETAIL_TYPE,
                "Detail": json.dumps(step.detail),
            }
        ]
    )
    if response.get("FailedEntryCount", 0):
        entry = response["Entries"][0]
        raise EventNotDelivered(
            f"{ANNOUNCED_DETAIL_TYPE} for order {order.order_id} was refused: "
            f"{entry.get('ErrorCode')} {entry.get('ErrorMessage')}"
        )
    try:
        orders.update_item(**announced_update(order))
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
    logger.info("Order sent to the baristas")
