"""VerifyQRCode (`POST /qr-code?token=<code>`): a valid scan takes one token of the current bucket and
starts an order for the caller (`Validator.NewOrder`), unless the caller already has the config item's
`maxOrdersPerUser` orders open (`customer_limit`): then it is refused with 409, no token taken, no event."""

from __future__ import annotations

import json
import os
import time
import uuid
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from customer_limit import Claim, claims_key, limit_of, refusal, stale
from qr_codes import BucketRules, as_json, plausible_token, trading_day
from shop_common import ORDERS_PARTITION, required_env

logger = Logger()
dynamodb = boto3.resource("dynamodb")
buckets = dynamodb.Table(required_env("VALIDATOR_TABLE_NAME"))
counting = dynamodb.Table(required_env("COUNTING_TABLE_NAME"))
config = dynamodb.Table(required_env("CONFIG_TABLE_NAME"))
ORDER_TABLE = required_env("ORDER_TABLE_NAME")
CLAIM_GRACE_MS = int(required_env("CLAIM_GRACE_SECONDS")) * 1000
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
events = boto3.client("events")
BUS_NAME = required_env("EVENT_BUS_NAME")
EVENT_SOURCE = required_env("EVENT_SOURCE")
rules = BucketRules.from_settings(required_env)
app = APIGatewayRestResolver(cors=CORSConfig(allow_origin=os.environ.get("CORS_ALLOW_ORIGIN", "*")))


def _answer(status: int, body: dict[str, Any]) -> Response:
    return Response(status, "application/json", json.dumps(body))


@app.post("/qr-code")
def verify_qr_code() -> Response:
    token = app.current_event.get_query_string_value("token")
    if token is None:
        return _answer(422, {"error": "Missing parameter"})
    user_id = (app.current_event.request_context.authorizer.claims or {}).get("sub")
    if not user_id:
        return _answer(401, {"error": "Sign in to order"})
    bucket_id = rules.bucket_id(time.time_ns() // 1_000_000)
    if not plausible_token(token):
        return _answer(400, {"error": "Invalid code"})
    now_ms = time.time_ns() // 1_000_000
    limit = limit_of(config.get_item(Key={"PK": "config"}, ConsistentRead=True).get("Item"))
    _release_stale_claims(user_id, now_ms)
    order_id = str(uuid.uuid4())
    try:
        _take_token_and_claim(bucket_id, token, user_id, Claim(order_id, now_ms), limit)
    except ClientError as error:
        if error.response["Error"]["Code"] != "TransactionCanceledException":
            raise
        bucket_refused, limit_refused = (
            reason.get("Code") == "ConditionalCheckFailed" for reason in error.response["CancellationReasons"]
        )
        current = buckets.get_item(Key={"PK": bucket_id}, ConsistentRead=True).get("Item")
        if current is None or current.get("last_code") != token:
            return _answer(400, {"error": "Invalid code"})
        if limit_refused:
            return _answer(409, {"error": refusal(limit), "maxOrdersPerUser": limit})
        if bucket_refused:
            return _answer(200, {"error": "No tokens remaining"})
        raise
    taken = buckets.get_item(Key={"PK": bucket_id}, ConsistentRead=True)["Item"]
    bucket = as_json(taken)
    answer = events.put_events(
        Entries=[
            {
                "EventBusName": BUS_NAME,
                "Source": EVENT_SOURCE,
                "DetailType": "Validator.NewOrder",
                "Detail": json.dumps(
                    {
                        "orderId": order_id,
                        "userId": user_id,
                        "bucket": bucket,
                        "tradingDay": trading_day(now_ms, TIME_ZONE),
                        "Message": "A customer scanned the QR code: a new order starts.",
                    }
                ),
            }
        ]
    )
    if answer.get("FailedEntryCount"):
        logger.error(
            "Validator.NewOrder was refused; the token is spent", extra={"entries": answer["Entries"]}
        )
        return _answer(500, {"error": "The order could not be started; please scan again"})
    logger.info("Scan accepted", extra={"orderId": order_id, "availableTokens": bucket["availableTokens"]})
    return _answer(200, {"orderId": order_id})


def _release_stale_claims(user_id: str, now_ms: int) -> None:
    """Drop the caller's claims that hold no order open any more (removing a set element is idempotent)."""
    key = {"PK": claims_key(user_id)}
    entries = (counting.get_item(Key=key, ConsistentRead=True).get("Item") or {}).get("openOrders") or set()
    if not entries:
        return
    ids = sorted({claim.order_id for entry in entries if (claim := Claim.parse(entry))})
    orders = {}
    if ids:
        answer = dynamodb.batch_get_item(
            RequestItems={
                ORDER_TABLE: {
                    "Keys": [{"PK": ORDERS_PARTITION, "SK": order_id} for order_id in ids],
                    "ConsistentRead": True,
                    "ProjectionExpression": "SK, ORDERSTATE",
                }
            }
        )
        orders = {item["SK"]: item for item in answer["Responses"].get(ORDER_TABLE, [])}
        # Orders DynamoDB left unread this time count as still open: a claim is never dropped on a guess.
        for key in answer.get("UnprocessedKeys", {}).get(ORDER_TABLE, {}).get("Keys", []):
            orders[key["SK"]] = {"ORDERSTATE": "CREATED"}
    if gone := stale(entries, orders, now_ms, CLAIM_GRACE_MS):
        counting.update_item(
            Key=key,
            UpdateExpression="DELETE openOrders :gone",
            ExpressionAttributeValues={":gone": set(gone)},
        )


def _take_token_and_claim(bucket_id: int, token: str, user_id: str, claim: Claim, limit: int) -> None:
    """One transaction: the code must still be this bucket's with a token left (never below zero), and the
    caller must hold fewer than `limit` open orders; both happen or neither."""
    # The resource's client serialises plain values to DynamoDB's typed form itself.
    dynamodb.meta.client.transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": buckets.name,
                    "Key": {"PK": bucket_id},
                    "UpdateExpression": "SET availableTokens = availableTokens - :one ADD last_id :one",
                    "ConditionExpression": (
                        "attribute_exists(PK) AND last_code = :token AND availableTokens > :zero"
                    ),
                    "ExpressionAttributeValues": {":one": 1, ":zero": 0, ":token": token},
                }
            },
            {
                "Update": {
                    "TableName": counting.name,
                    "Key": {"PK": claims_key(user_id)},
                    "UpdateExpression": "ADD openOrders :claim",
                    "ConditionExpression": "attribute_not_exists(openOrders) OR size(openOrders) < :limit",
                    "ExpressionAttributeValues": {
                        ":claim": {claim.entry},
                        ":limit": limit,
                    },
                }
            },
        ]
    )


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
