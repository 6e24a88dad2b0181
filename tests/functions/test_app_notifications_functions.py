"""The functions behind what the apps hear: ConfigChanged turns stream records into events; the publisher
sends each event to its audience's topic, and never to a topic a crafted user id would name."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import boto3
import pytest

from localcloud.emulator.lambda_runtime import load_module

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
app_topics = load_module(FUNCTIONS / "publish_to_apps", "app_topics")
IOT_HOST = "abc123-ats.iot.us-east-1.amazonaws.com"


@pytest.mark.parametrize(
    ("audience", "detail", "topic"),
    [
        ("admin", {"userId": "u1"}, "serverlesspresso-admin"),
        ("config", {}, "serverlesspresso-config"),
        ("user", {"userId": "0f9e-4a7c"}, "serverlesspresso-user-0f9e-4a7c"),
        ("user", {}, None),
        ("user", {"userId": ""}, None),
        ("user", {"userId": 42}, None),
        ("user", {"userId": "a/b"}, None),
        ("user", {"userId": "#"}, None),
        ("user", {"userId": "+"}, None),
        ("user", {"userId": "x" * 129}, None),
    ],
)
def test_each_audience_has_its_topic_and_a_user_id_can_never_name_another_topic(audience, detail, topic):
    assert app_topics.topic_for(audience, detail) == topic


def test_an_unknown_audience_is_a_configuration_error():
    with pytest.raises(ValueError, match="unknown audience"):
        app_topics.topic_for("everyone", {})


def test_an_app_hears_every_field_of_an_event_but_the_workflows_task_token():
    detail = {"orderId": "1", "userId": "u-1", "TaskToken": "AQB", "executionId": "arn:run", "Message": "m"}
    message = app_topics.app_message({"detail-type": "OrderProcessor.WorkflowStarted", "detail": detail})
    assert message == {
        "type": "OrderProcessor.WorkflowStarted",
        "detail": {"orderId": "1", "userId": "u-1", "executionId": "arn:run", "Message": "m"},
    }
    assert detail["TaskToken"] == "AQB"  # the event itself is left as it was


@pytest.fixture
def published(aws):
    from localcloud.emulator import iot

    start = len(iot.published())
    return lambda: [(m.topic, m.payload) for m in iot.published()[start:]]


def test_the_publisher_sends_type_and_detail_to_the_audiences_topic(
    aws, load_function, eventbridge_event, lambda_context, published
):
    publish = load_function("publish_to_apps", {"APP_AUDIENCE": "user", "IOT_DATA_ENDPOINT": IOT_HOST})
    event = eventbridge_event(
        "OrderManager.MakeOrder", {"orderId": "1", "userId": "u-1", "baristaUserId": "b"}
    )
    publish(event, lambda_context)
    publish(eventbridge_event("OrderManager.MakeOrder", {"orderId": "2"}), lambda_context)
    assert published() == [
        ("serverlesspresso-user-u-1", {"type": "OrderManager.MakeOrder", "detail": event["detail"]})
    ]


@pytest.mark.parametrize(
    ("environment", "endpoint"),
    [({}, f"https://{IOT_HOST}"), ({"AWS_ENDPOINT_URL": "http://127.0.0.1:4566"}, "http://127.0.0.1:4566")],
    ids=["the-accounts-iot-endpoint", "the-environments-endpoint"],
)
def test_the_publisher_reaches_the_endpoint_the_environment_names_before_the_accounts(
    mocked_aws, load_function, monkeypatch, environment, endpoint
):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    env = {"APP_AUDIENCE": "user", "IOT_DATA_ENDPOINT": IOT_HOST, **environment}
    publish = load_function("publish_to_apps", env)
    assert inspect.unwrap(publish).__globals__["iot"].meta.endpoint_url == endpoint


def test_no_function_picks_an_endpoint_but_through_the_layers_helper():
    """A client given its own endpoint ignores AWS_ENDPOINT_URL: on another emulator it would reach AWS."""
    sources = [*FUNCTIONS.rglob("*.py"), *FUNCTIONS.parent.joinpath("layers").rglob("*.py")]
    direct = [
        f"{path.relative_to(FUNCTIONS.parent)}: {line.strip()}"
        for path in sources
        for line in path.read_text().splitlines()
        if "endpoint_url=" in line and "endpoint_url=endpoint_url(" not in line
    ]
    assert direct == []


def test_an_event_without_a_detail_object_fails_so_that_it_is_retried_and_dead_lettered(
    aws, load_function, lambda_context
):
    publish = load_function("publish_to_apps", {"APP_AUDIENCE": "admin", "IOT_DATA_ENDPOINT": IOT_HOST})
    malformed = inspect.unwrap(publish).__globals__["MalformedEvent"]
    with pytest.raises(malformed):
        publish({"detail-type": "OrderManager.MakeOrder", "detail": "text"}, lambda_context)


def _stream_event(*images: dict | None) -> dict:
    return {
        "Records": [
            {
                "eventID": str(i),
                "eventName": "MODIFY",
                "eventSource": "aws:dynamodb",
                "dynamodb": {
                    "Keys": {"PK": {"S": "config"}},
                    "SequenceNumber": str(100 + i),
                    **({"NewImage": image} if image is not None else {}),
                },
            }
            for i, image in enumerate(images)
        ]
    }


def test_config_changed_announces_each_new_image_and_reports_only_the_records_it_could_not(
    mocked_aws, load_function, event_tap, lambda_context
):
    boto3.client("events", region_name="us-east-1").create_event_bus(Name="shop")
    tap = event_tap("shop")
    handler = load_function(
        "config_changed", {"EVENT_BUS_NAME": "shop", "EVENT_SOURCE": "awsserverlessda.serverlesspresso"}
    )
    closed = {"PK": {"S": "config"}, "storeOpen": {"BOOL": False}}
    answer = handler(_stream_event(closed, None), lambda_context)
    assert answer == {"batchItemFailures": [{"itemIdentifier": "101"}]}
    [event] = tap.received()
    assert event["detail-type"] == "ConfigService.ConfigChanged"
    assert event["detail"]["NewImage"] == closed
    assert json.loads(json.dumps(event["detail"]))["NewImage"]["storeOpen"]["BOOL"] is False
