"""ProduceOrder behind the Producer API (`GET /`): a valid order becomes exactly one `Order Notification`
with a numeric value; a missing or wrong parameter is a 400 that names it, and nothing is published."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from localcloud.emulator.lambda_runtime import load_module

order_request = load_module(
    Path(__file__).resolve().parents[2] / "functions" / "produce_order", "order_request"
)
SOURCE = "com.aws.orders"


def api_request(query: dict[str, str] | None) -> dict[str, Any]:
    """A REST API Lambda-proxy event for `GET /` on stage `dev`."""
    return {
        "resource": "/",
        "path": "/",
        "httpMethod": "GET",
        "headers": {},
        "multiValueHeaders": {},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
        "pathParameters": None,
        "requestContext": {
            "resourcePath": "/",
            "httpMethod": "GET",
            "stage": "dev",
            "requestId": "r-1",
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": None,
        "isBase64Encoded": False,
    }


@pytest.fixture
def producer(mocked_aws, load_function, event_tap):
    boto3.client("events", region_name="us-east-1").create_event_bus(Name="orders")
    tap = event_tap("orders", SOURCE)
    handler = load_function("produce_order", {"EVENT_BUS_NAME": "orders", "EVENT_SOURCE": SOURCE})

    def call(query: dict[str, str] | None, context: Any) -> tuple[int, dict[str, Any]]:
        answer = handler(api_request(query), context)
        return answer["statusCode"], json.loads(answer["body"])

    call.events = tap
    return call


def test_an_eu_order_is_published_once_as_an_order_notification_with_a_numeric_value(
    producer, lambda_context
):
    status, body = producer(
        {"location": "eu-west", "category": "office-supplies", "value": "300"}, lambda_context
    )

    assert status == 200
    [event] = producer.events.received()
    assert body == {"eventId": event["id"]}
    assert (event["source"], event["detail-type"]) == (SOURCE, "Order Notification")
    assert event["detail"] == {"category": "office-supplies", "location": "eu-west", "value": 300}


def test_a_decimal_value_stays_a_number(producer, lambda_context):
    status, _ = producer({"location": "us-east", "category": "books", "value": "12.50"}, lambda_context)

    assert status == 200
    assert producer.events.received()[0]["detail"]["value"] == 12.5


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"location": "eu-west", "category": "office-supplies"}, "'value' is required"),
        ({"location": "eu-west", "category": "office-supplies", "value": ""}, "'value' is required"),
        ({"location": "eu-west", "category": "office-supplies", "value": "three hundred"}, "value must be"),
        ({"location": "eu-west", "category": "office-supplies", "value": "-5"}, "value must be"),
        ({"location": "eu-west", "category": "office-supplies", "value": "1e3"}, "value must be"),
        ({"location": "eu-west", "category": "office-supplies", "value": "NaN"}, "value must be"),
        ({"category": "office-supplies", "value": "300"}, "'location' is required"),
        ({"location": "eu-west", "value": "300"}, "'category' is required"),
        ({"location": "eu-west" * 20, "category": "office-supplies", "value": "300"}, "location must be"),
        ({"location": " eu-west", "category": "office-supplies", "value": "300"}, "location must be"),
        ({"location": "eu-west", "category": "office\nsupplies", "value": "300"}, "category must be"),
        (None, "'location' is required"),
    ],
)
def test_a_missing_or_wrong_parameter_is_a_400_naming_it_and_nothing_is_published(
    producer, lambda_context, query, named
):
    status, body = producer(query, lambda_context)

    assert status == 400
    assert named in body["error"]
    assert producer.events.received() == []


def test_more_than_fifteen_digits_is_refused_before_it_can_lose_precision():
    with pytest.raises(order_request.InvalidOrder):
        order_request.parse_order({"location": "eu-west", "category": "c", "value": "1234567890.1234567"})
    assert order_request.parse_order(
        {"location": "eu-west", "category": "c", "value": "123456789012345"}
    ).value == (123456789012345)
