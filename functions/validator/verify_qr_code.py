"""VerifyQRCode (`POST /qr-code?token=<code>`): a valid scan takes one token of the current bucket and
starts an order for the caller (`Validator.NewOrder`)."""

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
from qr_codes import BucketRules, as_json, plausible_token
from shop_common import required_env

logger = Logger()
buckets = boto3.resource("dynamodb").Table(required_env("VALIDATOR_TABLE_NAME"))
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
    try:
        # Atomic: the code must still be this bucket's and a token must be left; never below zero.
        taken = buckets.update_item(
            Key={"PK": bucket_id},
            UpdateExpression="SET availableTokens = availableTokens - :one ADD last_id :one",
            ConditionExpression="attribute_exists(PK) AND last_code = :token AND availableTokens > :zero",
            ExpressionAttributeValues={":one": 1, ":zero": 0, ":token": token},
            ReturnValues="ALL_NEW",
        )["Attributes"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        current = buckets.get_item(Key={"PK": bucket_id}, ConsistentRead=True).get("Item")
        if current is None or current.get("last_code") != token:
            return _answer(400, {"error": "Invalid code"})
        return _answer(200, {"error": "No tokens remaining"})

    order_id = str(uuid.uuid4())
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


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
