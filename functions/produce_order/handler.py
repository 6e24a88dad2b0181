"""ProduceOrder (`GET /?location=...&category=...&value=...`): publish the order as an `Order Notification`.

200 with the event id once EventBridge has it; 400 (nothing published) when a parameter is missing or
wrong; 502 when EventBridge refuses the entry.
"""

from __future__ import annotations

import json
import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.utilities.typing import LambdaContext
from order_request import ORDER_NOTIFICATION, InvalidOrder, parse_order
from shop_common import required_env

logger = Logger()
events = boto3.client("events")
EVENT_BUS_NAME = required_env("EVENT_BUS_NAME")
EVENT_SOURCE = required_env("EVENT_SOURCE")
app = APIGatewayRestResolver(cors=CORSConfig(allow_origin=os.environ.get("CORS_ALLOW_ORIGIN", "*")))


def _error(status: int, message: str) -> Response:
    return Response(status, content_types.APPLICATION_JSON, json.dumps({"error": message}))


@app.get("/")
def produce_order() -> Response | dict[str, Any]:
    try:
        order = parse_order(app.current_event.query_string_parameters)
    except InvalidOrder as refused:
        logger.info("Refused an order request; nothing published", extra={"problem": str(refused)})
        return _error(400, str(refused))
    answer = events.put_events(
        Entries=[
            {
                "EventBusName": EVENT_BUS_NAME,
                "Source": EVENT_SOURCE,
                "DetailType": ORDER_NOTIFICATION,
                "Detail": json.dumps(order.detail()),
            }
        ]
    )
    [entry] = answer["Entries"]
    if answer.get("FailedEntryCount") or "EventId" not in entry:
        logger.error("EventBridge refused the order", extra={"entry": entry})
        return _error(502, "the order could not be published; try again")
    logger.info("Order published", extra={"eventId": entry["EventId"], **order.detail()})
    return {"eventId": entry["EventId"]}


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
