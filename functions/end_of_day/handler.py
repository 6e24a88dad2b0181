"""EndOfDay (`POST /store/end-of-day`, the `admin` group only): closes the shop and cancels every open order
(`closing`), so no run is left waiting and no capacity slot held overnight. Calling it again changes
nothing. Opening the next day is the usual `PUT /store?state=open`."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError
from closing import CANCELLED, OPEN, Closing, cancellation, finished
from shop_common import is_admin, required_env

logger = Logger()
dynamodb = boto3.resource("dynamodb")
orders = dynamodb.Table(required_env("ORDER_TABLE_NAME"))
config = dynamodb.Table(required_env("CONFIG_TABLE_NAME"))
events = boto3.client("events")
sfn = boto3.client("stepfunctions")
BUS_NAME = required_env("EVENT_BUS_NAME")
EVENT_SOURCE = required_env("EVENT_SOURCE")
STATUS_INDEX = "GSI-status"
GONE_TOKENS = ("TaskTimedOut", "InvalidToken", "TaskDoesNotExist")  # the run already moved on or ended
app = APIGatewayRestResolver(cors=CORSConfig(allow_origin=os.environ.get("CORS_ALLOW_ORIGIN", "*")))


def _items(state: str, only_closing: bool = False) -> Iterator[dict[str, Any]]:
    query: dict[str, Any] = {"IndexName": STATUS_INDEX, "KeyConditionExpression": Key("ORDERSTATE").eq(state)}
    if only_closing:
        query["FilterExpression"] = Attr("closing").exists()
    while True:
        page = orders.query(**query)
        yield from page["Items"]
        if "LastEvaluatedKey" not in page:
            return
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _close_shop() -> None:
    try:
        config.update_item(
            Key={"PK": "config"},
            UpdateExpression="SET storeOpen = :closed",
            ConditionExpression="storeOpen <> :closed",  # already closed: no second ConfigChanged
            ExpressionAttributeValues={":closed": False},
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise


def _announce_and_resume(closing: Closing) -> None:
    answer = events.put_events(
        Entries=[
            {
                "EventBusName": BUS_NAME,
                "Source": EVENT_SOURCE,
                "DetailType": "OrderManager.OrderCancelled",
                "Detail": json.dumps(closing.event_detail()),
            }
        ]
    )
    if answer.get("FailedEntryCount"):
        raise RuntimeError(f"OrderCancelled of {closing.order_id} was refused: {answer['Entries']}")
    resume = closing.resume()
    try:
        if resume["action"] == "success":
            sfn.send_task_success(taskToken=closing.task_token, output=resume["output"])
        else:
            sfn.send_task_failure(taskToken=closing.task_token, error=resume["error"], cause=resume["cause"])
    except ClientError as error:
        if error.response["Error"]["Code"] not in GONE_TOKENS:
            raise
    try:
        orders.update_item(**finished(closing.order_id))
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise


@app.post("/store/end-of-day")
def end_of_day() -> Response:
    if not is_admin(app.current_event.request_context.authorizer.claims):
        return Response(
            403, "application/json", json.dumps({"error": "Only the admin group may end the day"})
        )
    _close_shop()
    cancelled = 0
    for item in list(_items(OPEN)):
        try:
            updated = orders.update_item(**cancellation(str(item["SK"]), time.time_ns() // 1_000_000))
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            continue  # finished by someone else meanwhile, or not parked yet (no token): left as it is
        _announce_and_resume(Closing.of(updated["Attributes"]))
        cancelled += 1
    for item in list(_items(CANCELLED, only_closing=True)):  # a call that stopped half-way
        _announce_and_resume(Closing.of(item))
    logger.info("The day ended", extra={"cancelled": cancelled})
    return Response(200, "application/json", json.dumps({"cancelled": cancelled, "storeOpen": False}))


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
