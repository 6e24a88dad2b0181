"""The order-fulfillment system (SYSTEM §9) deployed into the local cloud and called over HTTP, as a shop
front or a partner would: F1 (EU order through the workflow to the table), F2 (US order to the partner's
endpoint, with its API key), F3 (other region only logged; bad input refused), a failing partner
(retried, then the dead-letter queue and its alarm), no loop (20 EU orders, 20 runs), and `serve
--project fulfillment` run as a person runs it."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from localcloud import program
from tests.e2e.conftest import eventually
from tests.localcloud.partner_endpoint import Partner, partner_endpoint

REPO = Path(__file__).resolve().parents[2]
PROJECT = program.project_dir("fulfillment")
API_KEY = "partner-key-" + uuid.uuid4().hex[:8]
RETRIES = int(program.stack_config("local", PROJECT)["fulfillment:ruleRetryAttempts"])
HTTP_LIMIT_SECONDS = 60
START_LIMIT_SECONDS = 180


@dataclass
class Fulfillment:
    """The served stack: the cloud, the Producer API's local URL and the partner's endpoint."""

    cloud: Any
    api: str
    partner: Partner

    def order(self, **query: str) -> requests.Response:
        return requests.get(self.api, params=query, timeout=HTTP_LIMIT_SECONDS)

    def logged(self, category: str) -> list[dict[str, Any]]:
        """Every event of the all-events log group about orders of `category`, oldest first."""
        logs, kwargs, found = (
            self.cloud.client("logs"),
            {"logGroupName": self.cloud.outputs["allEventsLogGroup"]},
            [],
        )
        while True:
            page = logs.filter_log_events(**kwargs)
            found.extend(json.loads(e["message"]) for e in page["events"])
            if not page.get("nextToken"):
                break
            kwargs["nextToken"] = page["nextToken"]
        return [e for e in found if _category(e["detail"]) == category]

    def runs(self, category: str) -> list[dict[str, Any]]:
        sfn, arn = self.cloud.client("stepfunctions"), self.cloud.outputs["orderWorkflowArn"]
        runs = []
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=arn):
            for execution in page["executions"]:
                described = sfn.describe_execution(executionArn=execution["executionArn"])
                if _category(json.loads(described["input"])["detail"]) == category:
                    runs.append(described)
        return runs

    def items(self, category: str) -> list[dict[str, Any]]:
        table = self.cloud.table("order-details")
        items, kwargs = [], {"ConsistentRead": True}
        while True:
            page = table.scan(**kwargs)
            items.extend(page["Items"])
            if "LastEvaluatedKey" not in page:
                return [i for i in items if i["category"] == category]
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def calls(self, category: str) -> list[Any]:
        return self.partner.of(lambda call: category in call.body)


def _category(detail: dict[str, Any]) -> str | None:
    return detail.get("category") or (detail.get("OrderDetails") or {}).get("category")


def new_category(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def fulfillment() -> Iterator[Fulfillment]:
    from localcloud.cloud import LocalCloud
    from localcloud.serve import serving

    logging.getLogger("moto").setLevel(logging.CRITICAL)
    with (
        partner_endpoint() as partner,
        LocalCloud.running(
            "local",
            {"usOrdersEndpoint": f"{partner.url}orders"},
            repo=PROJECT,
            secrets={"usOrdersApiKey": API_KEY},
        ) as cloud,
        serving() as front,
    ):
        yield Fulfillment(cloud, front.outputs(cloud.outputs)["orderApiEndpoint"], partner)


def test_f1_an_eu_order_runs_the_workflow_once_and_is_stored_and_dispatched(fulfillment):
    answer = fulfillment.order(location="eu-west", category="office-supplies", value="300")

    assert answer.status_code == 200, answer.text
    dispatched = eventually(
        lambda: [e for e in fulfillment.logged("office-supplies") if e["detail-type"] == "Order Dispatched"],
        "Order Dispatched in the log",
    )
    fulfillment.cloud.settle()
    logged = [e["detail-type"] for e in fulfillment.logged("office-supplies")]
    assert sorted(logged) == ["Order Dispatched", "Order Notification", "Order Processed"]
    [run] = fulfillment.runs("office-supplies")
    assert run["status"] == "SUCCEEDED"
    assert json.loads(run["input"])["id"] == answer.json()["eventId"]
    [item] = fulfillment.items("office-supplies")
    assert item == {
        "orderId": item["orderId"],
        "category": "office-supplies",
        "location": "eu-west",
        "value": 300,
    }
    assert dispatched[0]["detail"] == {**item, "value": 300}
    assert fulfillment.calls("office-supplies") == []


def test_f2_a_us_order_goes_to_the_partner_with_the_api_key_and_nowhere_else(fulfillment):
    category = new_category("books")

    answer = fulfillment.order(location="us-east", category=category, value="12.50")

    assert answer.status_code == 200, answer.text
    [call] = eventually(lambda: fulfillment.calls(category), "the partner's call")
    assert (call.method, call.path) == ("POST", "/orders")
    assert call.headers["x-api-key"] == API_KEY
    event = call.json()
    assert event["id"] == answer.json()["eventId"]
    assert event["detail-type"] == "Order Notification"
    assert event["detail"] == {"category": category, "location": "us-east", "value": 12.5}
    fulfillment.cloud.settle()
    assert len(fulfillment.calls(category)) == 1
    assert fulfillment.runs(category) == []
    assert fulfillment.items(category) == []


def test_f3_an_order_from_another_region_is_only_logged(fulfillment):
    category = new_category("garden")

    assert fulfillment.order(location="ap-south", category=category, value="5").status_code == 200
    fulfillment.cloud.settle()

    assert [e["detail-type"] for e in fulfillment.logged(category)] == ["Order Notification"]
    assert fulfillment.runs(category) == []
    assert fulfillment.items(category) == []
    assert fulfillment.calls(category) == []


@pytest.mark.parametrize("value", [None, "", "three hundred", "-1"])
def test_f3_a_missing_or_non_numeric_value_is_a_400_and_nothing_is_emitted(fulfillment, value):
    category = new_category("refused")
    query = {"location": "eu-west", "category": category, **({} if value is None else {"value": value})}

    answer = fulfillment.order(**query)

    assert answer.status_code == 400
    assert "value" in answer.json()["error"]
    fulfillment.cloud.settle()
    assert fulfillment.logged(category) == []
    assert fulfillment.runs(category) == []


def test_a_failing_partner_is_retried_then_the_order_waits_in_the_alarmed_dead_letter_queue(fulfillment):
    category = new_category("failing")
    fulfillment.partner.status = lambda call: 500 if category in call.body else 200
    queue_url = fulfillment.cloud.outputs["usOrdersDeadLetterQueueUrl"]
    sqs = fulfillment.cloud.client("sqs")

    def dead_letters() -> list[dict[str, Any]]:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0)
        return [json.loads(m["Body"]) for m in messages.get("Messages", [])]

    try:
        assert fulfillment.order(location="us-west", category=category, value="9").status_code == 200
        [letter] = eventually(
            lambda: [m for m in dead_letters() if m["detail"]["category"] == category], "the dead letter"
        )
    finally:
        fulfillment.partner.status = 200
    fulfillment.cloud.settle()

    assert len(fulfillment.calls(category)) == 1 + RETRIES
    assert letter["detail-type"] == "Order Notification"
    queue_name = queue_url.rsplit("/", 1)[1]
    [alarm] = [
        a
        for a in fulfillment.cloud.client("cloudwatch").describe_alarms()["MetricAlarms"]
        if {"Name": "QueueName", "Value": queue_name} in a["Dimensions"]
    ]
    assert alarm["AlarmActions"] == [fulfillment.cloud.outputs["alarmTopicArn"]]
    assert (alarm["MetricName"], alarm["ComparisonOperator"], alarm["Threshold"]) == (
        "ApproximateNumberOfMessagesVisible",
        "GreaterThanThreshold",
        0,
    )
    # What the alarm watches (the visible messages, as CloudWatch reports them) is above its threshold.
    visible = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])
    assert int(visible["Attributes"]["ApproximateNumberOfMessages"]) > alarm["Threshold"]


def test_twenty_eu_orders_give_exactly_twenty_runs_and_twenty_stored_orders(fulfillment):
    category = new_category("loop-check")

    for value in range(20):
        assert fulfillment.order(location="eu-west", category=category, value=str(value)).status_code == 200
    eventually(lambda: len(fulfillment.items(category)) >= 20, "twenty stored orders")
    fulfillment.cloud.settle()

    assert len(fulfillment.runs(category)) == 20
    stored = fulfillment.items(category)
    assert sorted(item["value"] for item in stored) == [Decimal(v) for v in range(20)]
    dispatched = [e for e in fulfillment.logged(category) if e["detail-type"] == "Order Dispatched"]
    assert sorted(e["detail"]["orderId"] for e in dispatched) == sorted(item["orderId"] for item in stored)


def test_a_new_partner_key_set_with_a_redeploy_is_sent_from_the_next_order_on(fulfillment):
    category = new_category("rotated")
    rotated = "rotated-" + uuid.uuid4().hex[:8]
    try:
        summary = fulfillment.cloud.deploy(secrets={"usOrdersApiKey": rotated})
        assert summary.action_of("us-orders-to-api-partner-connection") == "updated"
        assert fulfillment.order(location="us-east", category=category, value="1").status_code == 200
        [call] = eventually(lambda: fulfillment.calls(category), "the partner's call")
    finally:
        fulfillment.cloud.deploy(secrets={"usOrdersApiKey": API_KEY})
    assert call.headers["x-api-key"] == rotated


# --- `python -m localcloud serve --project fulfillment`, as a person runs it --------------------------


def test_serve_runs_the_fulfillment_without_users_and_an_eu_order_reaches_the_table():
    folder = Path(tempfile.mkdtemp(prefix="serve-fulfillment-"))
    outputs_file, log_file = folder / "outputs.json", folder / "serve.log"
    secret = "never-printed-" + uuid.uuid4().hex
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "localcloud",
            "serve",
            "--project=fulfillment",
            "--stack=local",
            "--port=0",
            f"--outputs-file={outputs_file}",
            f"--secret=usOrdersApiKey={secret}",
        ],
        cwd=REPO,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdin=subprocess.DEVNULL,
        stdout=log_file.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        eventually(
            lambda: outputs_file.exists() or process.poll() is not None,
            "serve's outputs",
            START_LIMIT_SECONDS,
        )
        assert process.poll() is None, log_file.read_text()
        settings = json.loads(outputs_file.read_text())
        assert settings["users"] == {}
        api = settings["outputs"]["orderApiEndpoint"]
        assert api.startswith("http://127.0.0.1:") and api.endswith("/dev/")

        answer = requests.get(
            api, params={"location": "eu-west", "category": "office-supplies", "value": "300"}, timeout=60
        )

        assert answer.status_code == 200, answer.text
        table = boto3.resource(
            "dynamodb", endpoint_url=settings["awsEndpoint"], region_name=settings["outputs"]["region"]
        ).Table(settings["outputs"]["orderDetailsTableName"])
        [item] = eventually(lambda: table.scan()["Items"], "the stored order")
        assert (item["category"], item["location"], item["value"]) == ("office-supplies", "eu-west", 300)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=120)
        log = log_file.read_text()
        shutil.rmtree(folder, ignore_errors=True)
    assert code == 0, log
    assert secret not in log
    assert "orderApiEndpoint: http://127.0.0.1:" in log
