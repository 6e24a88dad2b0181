"""What the apps hear, over the served stack: scenario 18 (the display, barista and customer apps follow an
order on their IoT topics, each event once and in order, none with a workflow's task token), scenario 1
through `PUT /store`, and a publisher that keeps failing ends in its dead-letter queue, which raises the
alarm."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
import requests

from tests.e2e.conftest import (
    CAPPUCCINO,
    counter,
    detail_types,
    eventually,
    finished,
    logged_events,
    new_id,
    order,
    visited_states,
)

ADMIN_TOPIC, CONFIG_TOPIC = "serverlesspresso-admin", "serverlesspresso-config"
# SYSTEM §2: the events of one order on the staff's topic, and on the customer's own topic.
ADMIN_JOURNEY = [
    "Validator.NewOrder",
    "OrderProcessor.WorkflowStarted",
    "OrderProcessor.WaitingCompletion",
    "OrderManager.WaitingCompletion",
    "OrderManager.MakeOrder",
    "OrderManager.OrderCompleted",
    "OrderProcessor.orderFinished",
]
USER_JOURNEY = ADMIN_JOURNEY[1:]


@pytest.fixture
def cloud(served):
    return served.cloud


def clients(served) -> tuple[Any, Any, Any]:
    return served.clients["admin"], served.clients["barista"], served.clients["customer"]


def of_order(cloud, topic: str, order_id: str) -> list[dict[str, Any]]:
    return [m.payload for m in cloud.published(topic) if m.payload["detail"].get("orderId") == order_id]


def scan(admin, customer) -> tuple[str, int]:
    bucket = admin.call("GET", "validator", "/qr-code").json()["bucket"]
    answer = customer.call("POST", "validator", "/qr-code", params={"token": bucket["last_code"]})
    assert answer.status_code == 200, answer.text
    return answer.json()["orderId"], bucket["availableTokens"]


def test_scenario_18_the_apps_follow_an_order_on_their_topics_each_event_once_in_order(served, cloud):
    admin, barista, customer = clients(served)
    order_id, tokens_before = scan(admin, customer)
    second_id, _ = scan(admin, customer)
    eventually(lambda: (order(cloud, order_id) or {}).get("TaskToken"), "the order parked")
    assert customer.call("PUT", "orders", f"/orders/{order_id}", json=CAPPUCCINO).status_code == 200
    eventually(lambda: (order(cloud, order_id) or {}).get("orderNumber"), "the order numbered")
    assert barista.call("PUT", "orders", f"/orders/{order_id}", params={"action": "make"}).status_code == 200
    assert (
        barista.call("PUT", "orders", f"/orders/{order_id}", params={"action": "complete"}).status_code == 200
    )
    eventually(
        lambda: "OrderProcessor.orderFinished" in [m["type"] for m in of_order(cloud, ADMIN_TOPIC, order_id)],
        "the order finished on the admin topic",
    )
    cloud.settle()

    assert [m["type"] for m in of_order(cloud, ADMIN_TOPIC, order_id)] == ADMIN_JOURNEY
    user_topic = f"serverlesspresso-user-{customer.user_id}"
    assert [m["type"] for m in of_order(cloud, user_topic, order_id)] == USER_JOURNEY
    # The display counts the drinks left down with every scan.
    remaining = [
        m.payload["detail"]["bucket"]["availableTokens"]
        for m in cloud.published(ADMIN_TOPIC)
        if m.payload["type"] == "Validator.NewOrder"
        and m.payload["detail"]["orderId"] in (order_id, second_id)
    ]
    assert remaining == [tokens_before - 1, tokens_before - 2]
    # Nobody else's topic heard of this order.
    other_topics = {m.topic for m in cloud.published() if m.payload["detail"].get("orderId") == order_id}
    assert other_topics == {ADMIN_TOPIC, user_topic}
    # Each of the order's two parked tasks went out on the bus with its token, and no app heard either.
    tokens = {e["detail"]["TaskToken"] for e in logged_events(cloud, order_id) if "TaskToken" in e["detail"]}
    assert len(tokens) == 2
    heard = json.dumps([m.payload for m in cloud.published()])
    assert [token for token in tokens if token in heard] == []


def test_the_served_feed_streams_a_topic_as_server_sent_events(served, cloud):
    admin, _, customer = clients(served)
    received: list[dict[str, Any]] = []
    connected = threading.Event()

    def listen() -> None:
        with requests.get(served.settings["iotFeed"] + ADMIN_TOPIC, stream=True, timeout=60) as answer:
            for line in answer.iter_lines():
                connected.set()
                if line.startswith(b"data: "):
                    received.append(json.loads(line[len(b"data: ") :]))
                    if received[-1]["type"] == "OrderProcessor.WorkflowStarted":
                        return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert connected.wait(30), "the feed never answered"
    order_id, _ = scan(admin, customer)
    listener.join(60)
    assert [m["type"] for m in received if m["detail"].get("orderId") == order_id] == ADMIN_JOURNEY[:2]
    assert received[-1] == of_order(cloud, ADMIN_TOPIC, order_id)[1]


def test_scenario_1_closing_the_shop_through_the_api_reaches_every_app_and_turns_orders_away(served, cloud):
    admin = served.clients["admin"]
    before = counter(cloud)
    seen = len(cloud.published(CONFIG_TOPIC))
    assert admin.call("PUT", "config", "/store", params={"state": "closed"}).status_code == 200
    try:
        change = eventually(lambda: cloud.published(CONFIG_TOPIC)[seen:], "ConfigChanged on the config topic")
        [message] = [m.payload for m in change]
        assert message["type"] == "ConfigService.ConfigChanged"
        assert message["detail"]["NewImage"]["storeOpen"] == {"BOOL": False}
        order_id = new_id()
        cloud.put_event("Validator.NewOrder", {"orderId": order_id, "userId": "testuser"})
        run = finished(cloud, order_id)
    finally:
        assert admin.call("PUT", "config", "/store", params={"state": "open"}).status_code == 200
    assert run["status"] == "SUCCEEDED"
    assert "Emit - Shop not ready" in visited_states(cloud, run["executionArn"])
    cloud.settle()
    kinds = detail_types(cloud, order_id)
    assert "OrderProcessor.ShopUnavailable" in kinds and "OrderProcessor.WorkflowStarted" not in kinds
    assert [m["type"] for m in of_order(cloud, "serverlesspresso-user-testuser", order_id)] == [
        "OrderProcessor.ShopUnavailable"
    ]
    assert order(cloud, order_id) is None
    assert counter(cloud) == before
    logged = [e for e in logged_events(cloud) if e["detail-type"] == "ConfigService.ConfigChanged"]
    assert any(e["detail"]["NewImage"].get("storeOpen") == {"BOOL": False} for e in logged)


def test_a_publisher_that_keeps_failing_is_retried_then_dead_lettered_and_alarmed(served, cloud, monkeypatch):
    from moto.iotdata.models import IoTDataPlaneBackend

    original = IoTDataPlaneBackend.publish

    def refuse_config(self, topic, payload):
        if topic == CONFIG_TOPIC:
            raise RuntimeError("IoT is unavailable")
        return original(self, topic, payload)

    publisher = cloud.function_name("app-notifications-publish-config")
    runtime_usage = cloud.usage["lambda"].get(publisher, {"requests": 0})["requests"]
    monkeypatch.setattr(IoTDataPlaneBackend, "publish", refuse_config)
    cloud.put_event("ConfigService.ConfigChanged", {"NewImage": {"PK": {"S": "probe"}}, "Message": "probe"})
    cloud.settle()
    monkeypatch.setattr(IoTDataPlaneBackend, "publish", original)

    attempts = cloud.usage["lambda"][publisher]["requests"] - runtime_usage
    assert attempts == 3  # the first try and Lambda's two asynchronous retries
    dlq_name = cloud.state.named("app-notifications-publish-config-dlq").state["name"]
    sqs = cloud.client("sqs")
    url = sqs.get_queue_url(QueueName=dlq_name)["QueueUrl"]
    [letter] = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert "probe" in letter["Body"]
    alarms = cloud.client("cloudwatch").describe_alarms()["MetricAlarms"]
    watching = [a for a in alarms if {"Name": "QueueName", "Value": dlq_name} in a["Dimensions"]]
    assert len(watching) == 1
    assert watching[0]["AlarmActions"] == [cloud.outputs["alarmTopicArn"]]
