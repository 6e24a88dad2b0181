"""Publish one bus event to the IoT topic its audience's apps listen to (APP_AUDIENCE: admin, user or
config), without what D15 keeps from the apps (task tokens, execution ids, the QR code, and on the
staff topic the customer's user id). Errors raise, so Lambda's asynchronous retries and the dead-letter
queue apply."""

from __future__ import annotations

import json
from typing import Any

import boto3
from app_topics import app_message, topic_for
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from shop_common import MalformedEvent, endpoint_url, required_env

logger = Logger()
AUDIENCE = required_env("APP_AUDIENCE")
iot = boto3.client("iot-data", endpoint_url=endpoint_url(required_env("IOT_DATA_ENDPOINT")))


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> None:
    detail = event.get("detail") if isinstance(event, dict) else None
    if not isinstance(detail, dict):
        raise MalformedEvent("the event has no detail object")
    topic = topic_for(AUDIENCE, detail)
    if topic is None:
        logger.info("No reader for this event", extra={"detailType": event.get("detail-type")})
        return
    iot.publish(topic=topic, qos=1, payload=json.dumps(app_message(event, AUDIENCE)).encode())
    logger.info("Published", extra={"topic": topic, "detailType": event.get("detail-type")})
