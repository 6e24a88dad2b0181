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


def test_an_app_hears_every_field_of_an_event_but_the_workflows_token_and_run():
    detail = {"orderId": "1", "userId": "u-1", "TaskToken": "AQB", "executionId": "arn:run", "Message": "m"}
    message = app_topics.app_message({"detail-type": "OrderProcessor.WorkflowStarted", "detail": detail})
    assert message == {
        "type": "OrderProcessor.WorkflowStarted",
        "detail": {"orderId": "1", "userId": "u-1", "Message": "m"},
    }
    assert detail["TaskToken"] == "AQB"  # the event itself is left as it was


CUSTOMER, CODE, TOKEN, RUN = "customer-sub-1", "qr-code-7", "task-token-AQB", "arn:aws:states:run-1"
BUCKET = {"PK": 1, "last_id": 3, "last_code": CODE, "start_ts": 1, "end_ts": 2, "availableTokens": 9}
DRINK = {"userId": CUSTOMER, "drink": "Latte", "modifiers": [], "icon": "barista-icons_cafe-latte"}
# Every event type of the catalog (SYSTEM §2) with every field its emitter sends, and what each app reads.
EVENTS = {
    "Validator.NewOrder": (
        {"orderId": "o", "userId": CUSTOMER, "Message": "m", "bucket": BUCKET},
        [("admin", "bucket.availableTokens", 9), ("admin", "bucket.end_ts", 2)],
    ),
    "OrderProcessor.WorkflowStarted": (
        {"orderId": "o", "userId": CUSTOMER, "TaskToken": TOKEN, "Message": "m", "executionId": RUN},
        [("user", "orderId", "o")],
    ),
    "OrderProcessor.WaitingCompletion": (
        {"orderId": "o", "userId": CUSTOMER, "TaskToken": TOKEN, "Message": "m", "orderNumber": "4"},
        [("user", "orderNumber", "4")],
    ),
    "OrderProcessor.OrderTimeOut": (
        {"orderId": "o", "userId": CUSTOMER, "cause": "Customer timedout", "Message": "m"},
        [("admin", "cause", "Customer timedout")],
    ),
    "OrderProcessor.ShopUnavailable": (
        {"orderId": "o", "userId": CUSTOMER, "Message": "m"},
        [("user", "orderId", "o")],
    ),
    "OrderProcessor.orderFinished": (
        {"orderId": "o", "userId": CUSTOMER, "Message": "m"},
        [("admin", "orderId", "o")],
    ),
    "OrderManager.WaitingCompletion": (
        {
            "orderId": "o",
            "orderNumber": "4",
            "state": "CREATED",
            "drinkOrder": DRINK,
            "userId": CUSTOMER,
            "robot": False,
            "TS": 5,
            "Message": "m",
        },
        [
            ("admin", "orderNumber", "4"),
            ("admin", "drinkOrder.drink", "Latte"),
            ("admin", "TS", 5),
            ("admin", "drinkOrder.icon", DRINK["icon"]),
            ("admin", "drinkOrder.modifiers", []),
            ("user", "drinkOrder.drink", "Latte"),
        ],
    ),
    "OrderManager.MakeOrder": (
        {"orderId": "o", "userId": CUSTOMER, "baristaUserId": "barista-9", "Message": "m"},
        [("admin", "baristaUserId", "barista-9")],
    ),
    "OrderManager.OrderCompleted": (
        {"orderId": "o", "userId": CUSTOMER, "ORDERSTATE": "COMPLETED", "Message": "m"},
        [("admin", "orderId", "o")],
    ),
    "OrderManager.OrderCancelled": (
        {"orderId": "o", "userId": CUSTOMER, "ORDERSTATE": "CANCELLED", "Message": "m"},
        [("admin", "orderId", "o")],
    ),
    "ConfigService.ConfigChanged": (
        {"NewImage": {"PK": {"S": "config"}, "storeOpen": {"BOOL": False}}},
        [("config", "NewImage.storeOpen.BOOL", False), ("admin", "NewImage.storeOpen.BOOL", False)],
    ),
}


def _at(detail, path):
    for part in path.split("."):
        detail = detail[part]
    return detail


@pytest.mark.parametrize("detail_type", sorted(EVENTS))
def test_no_topic_hears_a_token_a_run_or_the_qr_code_and_the_staff_hear_no_customer(detail_type):
    detail, reads = EVENTS[detail_type]
    for audience in app_topics.AUDIENCES:
        text = json.dumps(app_topics.app_message({"detail-type": detail_type, "detail": detail}, audience))
        for secret in (TOKEN, RUN, CODE, "TaskToken", "executionId", "last_code"):
            assert secret not in text, (audience, secret)
        if audience == "admin":
            assert CUSTOMER not in text and "userId" not in text
    for audience, path, value in reads:  # what the apps read stays
        message = app_topics.app_message({"detail-type": detail_type, "detail": detail}, audience)
        assert _at(message["detail"], path) == value, (audience, path)


def test_every_event_type_of_the_catalog_is_walked():
    from components.app_notifications import AUDIENCE_EVENTS  # the prefixes each audience hears

    prefixes = {prefix for prefixes in AUDIENCE_EVENTS.values() for prefix in prefixes}
    assert {detail_type.split(".")[0] + "." for detail_type in EVENTS} == prefixes
    assert len(EVENTS) == 11


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
