"""ConfigChanged: every change of the config table (the stream mapping passes INSERT and MODIFY only)
becomes a `ConfigService.ConfigChanged` event with the item's new image, for the apps."""

from __future__ import annotations

import json
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from shop_common import MalformedEvent, required_env

logger = Logger()
events = boto3.client("events")
BUS_NAME = required_env("EVENT_BUS_NAME")
EVENT_SOURCE = required_env("EVENT_SOURCE")
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def config_changed_entry(record: dict[str, Any]) -> dict[str, Any]:
    """The event for one stream record: the new image as DynamoDB-typed JSON (apps read storeOpen.BOOL)."""
    new_image = (record.get("dynamodb") or {}).get("NewImage")
    if not isinstance(new_image, dict):
        raise MalformedEvent("the stream record has no NewImage: the table's stream must show new images")
    return {
        "EventBusName": BUS_NAME,
        "Source": EVENT_SOURCE,
        "DetailType": "ConfigService.ConfigChanged",
        "Detail": json.dumps({"NewImage": new_image, "Message": "The shop's configuration changed."}),
    }


def announce(record: DynamoDBRecord) -> None:
    answer = events.put_events(Entries=[config_changed_entry(record.raw_event)])
    if answer.get("FailedEntryCount"):
        raise RuntimeError(f"ConfigChanged was refused: {answer['Entries']}")
    logger.info("Config change announced", extra={"keys": record.raw_event["dynamodb"].get("Keys")})


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=announce, processor=processor, context=context
    )
