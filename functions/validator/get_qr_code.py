"""GetQRCode (`GET /qr-code`, admin group only): the current bucket, created on first request."""

from __future__ import annotations

import os
import time
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from qr_codes import BucketRules, as_json, new_bucket
from shop_common import is_admin, required_env

logger = Logger()
buckets = boto3.resource("dynamodb").Table(required_env("VALIDATOR_TABLE_NAME"))
rules = BucketRules.from_settings(required_env)
app = APIGatewayRestResolver(cors=CORSConfig(allow_origin=os.environ.get("CORS_ALLOW_ORIGIN", "*")))


@app.get("/qr-code")
def get_qr_code() -> Response | dict[str, Any]:
    if not is_admin(app.current_event.request_context.authorizer.claims):
        return Response(403, "application/json", '{"error": "Only the admin group may show the QR code"}')
    candidate = new_bucket(rules, now_ms=time.time_ns() // 1_000_000)
    try:
        buckets.put_item(Item=candidate, ConditionExpression="attribute_not_exists(PK)")
        logger.info("New QR bucket", extra={"bucket": candidate["PK"]})
        return {"bucket": as_json(candidate)}
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
    current = buckets.get_item(Key={"PK": candidate["PK"]}, ConsistentRead=True)["Item"]
    return {"bucket": as_json(current)}


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
