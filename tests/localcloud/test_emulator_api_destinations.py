"""Each API destination gap closed by localcloud.emulator.api_destinations, with a partner endpoint on
127.0.0.1 and tiny inline rules: the event as the body, the API key from the connection's secret, the HTTP
parameters, after PutEvents returned; retries as AWS retries, then the dead-letter queue."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import boto3
import pytest

from localcloud import emulator
from tests.localcloud.emulator_helpers import ROLE_ARN, create_queue
from tests.localcloud.partner_endpoint import Partner, partner_endpoint

BUS = "orders"


@pytest.fixture
def partner(aws) -> Iterator[Partner]:
    with partner_endpoint() as endpoint:
        yield endpoint


def api_destination(partner: Partner, path: str = "orders", key: str = "k-1") -> str:
    events = boto3.client("events")
    connection = events.create_connection(
        Name="partner",
        AuthorizationType="API_KEY",
        AuthParameters={"ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": key}},
    )["ConnectionArn"]
    return events.create_api_destination(
        Name="partner",
        ConnectionArn=connection,
        InvocationEndpoint=f"{partner.url}{path}",
        HttpMethod="POST",
    )["ApiDestinationArn"]


def route_to(destination_arn: str, retries: int = 2, **target: object) -> str:
    """A rule on the bus for every `Order Notification`; returns its dead-letter queue's URL."""
    events = boto3.client("events")
    if BUS not in [b["Name"] for b in events.list_event_buses()["EventBuses"]]:
        events.create_event_bus(Name=BUS)
    dlq_url, dlq_arn = create_queue("partner-dlq")
    events.put_rule(
        Name="to-partner", EventBusName=BUS, EventPattern=json.dumps({"detail-type": ["Order Notification"]})
    )
    events.put_targets(
        Rule="to-partner",
        EventBusName=BUS,
        Targets=[
            {
                "Id": "partner",
                "Arn": destination_arn,
                "RoleArn": ROLE_ARN,
                "RetryPolicy": {"MaximumRetryAttempts": retries, "MaximumEventAgeInSeconds": 3600},
                "DeadLetterConfig": {"Arn": dlq_arn},
                **target,
            }
        ],
    )
    return dlq_url


def put_order(location: str = "us-east") -> str:
    answer = boto3.client("events").put_events(
        Entries=[
            {
                "EventBusName": BUS,
                "Source": "com.aws.orders",
                "DetailType": "Order Notification",
                "Detail": json.dumps({"category": "books", "location": location, "value": 300}),
            }
        ]
    )
    return answer["Entries"][0]["EventId"]


def dead_letters(queue_url: str) -> list[dict]:
    messages = (
        boto3.client("sqs")
        .receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
        .get("Messages", [])
    )
    return [
        {
            "body": json.loads(m["Body"]),
            **{k: v["StringValue"] for k, v in m.get("MessageAttributes", {}).items()},
        }
        for m in messages
    ]


# --- gap 1: the event reaches the endpoint as the body, with the API key ------------------------------


def test_the_partner_receives_the_event_as_json_with_the_api_key_from_the_connection(partner):
    route_to(api_destination(partner))

    event_id = put_order()
    emulator.settle()

    [call] = partner.received
    assert (call.method, call.path) == ("POST", "/orders")
    assert call.headers["x-api-key"] == "k-1"
    assert call.headers["content-type"] == "application/json; charset=utf-8"
    event = call.json()
    assert event["id"] == event_id
    assert (event["detail-type"], event["source"]) == ("Order Notification", "com.aws.orders")
    assert event["detail"] == {"category": "books", "location": "us-east", "value": 300}


def test_the_target_input_path_and_http_parameters_shape_the_call(partner):
    route_to(
        api_destination(partner, path="orders/*"),
        InputPath="$.detail",
        HttpParameters={
            "PathParameterValues": ["eu"],
            "HeaderParameters": {"x-tenant": "shop-1"},
            "QueryStringParameters": {"channel": "events"},
        },
    )

    put_order()
    emulator.settle()

    [call] = partner.received
    assert call.path == "/orders/eu"
    assert call.query == {"channel": "events"}
    assert call.headers["x-tenant"] == "shop-1"
    assert call.json() == {"category": "books", "location": "us-east", "value": 300}


def test_the_call_happens_after_put_events_returned(partner):
    returned = threading.Event()
    seen_after_return = []

    def answer(_):
        seen_after_return.append(returned.wait(timeout=30))  # a call inside PutEvents would wait in vain
        return 200

    partner.status = answer
    route_to(api_destination(partner))

    put_order()
    returned.set()
    emulator.settle()

    assert seen_after_return == [True]


def test_moto_never_makes_its_own_empty_call_even_when_asked_to(partner, monkeypatch):
    monkeypatch.setenv("MOTO_EVENTS_INVOKE_HTTP", "true")
    route_to(api_destination(partner))

    put_order()
    emulator.settle()

    assert [bool(call.body) for call in partner.received] == [True]


def test_a_rotated_key_is_used_from_the_next_call_on(partner):
    route_to(api_destination(partner))
    secret_arn = boto3.client("events").describe_connection(Name="partner")["SecretArn"]
    boto3.client("secretsmanager").put_secret_value(
        SecretId=secret_arn, SecretString=json.dumps({"api_key_name": "x-api-key", "api_key_value": "k-2"})
    )

    put_order()
    emulator.settle()

    assert [call.headers["x-api-key"] for call in partner.received] == ["k-2"]


def test_a_disabled_rule_calls_nobody(partner):
    route_to(api_destination(partner))
    boto3.client("events").disable_rule(Name="to-partner", EventBusName=BUS)

    put_order()
    emulator.settle()

    assert partner.received == []


# --- gap 2: retries as AWS retries, then the dead-letter queue ----------------------------------------


@pytest.mark.parametrize("status", [500, 503, 429, 409])
def test_a_retriable_failure_is_retried_then_dead_lettered_with_the_reason(partner, status):
    partner.status = status
    dlq = route_to(api_destination(partner), retries=2)

    event_id = put_order()
    emulator.settle()

    assert len(partner.received) == 3  # the call and two retries
    [letter] = dead_letters(dlq)
    assert letter["body"]["id"] == event_id
    assert letter["ERROR_CODE"] == f"HTTP_STATUS_{status}"
    assert letter["RETRY_ATTEMPTS"] == "2"
    assert letter["RULE_ARN"].endswith("rule/orders/to-partner")
    assert ":api-destination/partner/" in letter["TARGET_ARN"]


@pytest.mark.parametrize("status", [400, 403, 404])
def test_a_refusal_is_not_retried(partner, status):
    partner.status = status
    dlq = route_to(api_destination(partner), retries=5)

    put_order()
    emulator.settle()

    assert len(partner.received) == 1
    assert [letter["ERROR_CODE"] for letter in dead_letters(dlq)] == [f"HTTP_STATUS_{status}"]


def test_a_partner_that_recovers_gets_the_event_once_and_nothing_is_dead_lettered(partner):
    partner.status = lambda _: 500 if len(partner.received) == 1 else 200
    dlq = route_to(api_destination(partner), retries=2)

    put_order()
    emulator.settle()

    assert len(partner.received) == 2
    assert partner.received[0].body == partner.received[1].body
    assert dead_letters(dlq) == []


def test_an_endpoint_nobody_listens_on_is_retried_then_dead_lettered(partner):
    with partner_endpoint() as gone:
        url = gone.url
    events = boto3.client("events")
    connection = events.create_connection(
        Name="nobody",
        AuthorizationType="API_KEY",
        AuthParameters={"ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": "k"}},
    )["ConnectionArn"]
    destination = events.create_api_destination(
        Name="nobody", ConnectionArn=connection, InvocationEndpoint=url, HttpMethod="POST"
    )["ApiDestinationArn"]
    dlq = route_to(destination, retries=1)

    put_order()
    emulator.settle()

    [letter] = dead_letters(dlq)
    assert letter["ERROR_CODE"] == "CONNECTION_FAILED"
    assert letter["RETRY_ATTEMPTS"] == "1"


def test_a_deleted_destination_dead_letters_at_once(partner):
    dlq = route_to(api_destination(partner))
    boto3.client("events").delete_api_destination(Name="partner")

    put_order()
    emulator.settle()

    assert partner.received == []
    assert [letter["ERROR_CODE"] for letter in dead_letters(dlq)] == ["RESOURCE_NOT_FOUND"]
