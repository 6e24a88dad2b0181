"""A second opinion from an emulator this project did not write: MiniStack, started on 127.0.0.1, gets the
real program through `python -m localcloud up --endpoint-url` (boto3 over HTTP; no moto in that process)
and runs it with its own event delivery, Step Functions and Lambda. The journey subset: an order walked to
COMPLETED through both workflows, a customer who never orders timing out, the sale counted once, every
dead-letter queue empty. What MiniStack does not run is skipped with the reason, never faked.

MiniStack lives in its own venv (`.ministack`, from `.ci/ministack.txt`; `.ci/run` makes it). Without it
these tests skip, except in CI, where they fail.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from localcloud import program
from localcloud.endpoint import EndpointStack
from localcloud.second_opinion import (
    MINISTACK_PYTHON,
    WAIT_LIMIT_SECONDS,
    Shop,
    eventually,
    running_ministack,
)
from tests.e2e.conftest import run_cli


@pytest.fixture(scope="module")
def timings() -> dict[str, float]:
    return {}


def installed_ministack() -> None:
    if not MINISTACK_PYTHON.exists():
        message = (
            f"MiniStack is not installed at {MINISTACK_PYTHON}: python3 -m venv .ministack && "
            ".ministack/bin/pip install -r .ci/ministack.txt (.ci/run does it)"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def deployed(url: str, *config: str) -> Shop:
    """The `local` stack deployed by the CLI in a process of its own, as a user runs it."""
    outputs = Path(tempfile.mkdtemp(prefix="endpoint-")) / "outputs.json"
    settings = (f"--config={setting}" for setting in config)
    run_cli("up", "--stack=local", f"--endpoint-url={url}", f"--outputs-file={outputs}", *settings)
    region = program.stack_config("local")["aws:region"]
    return Shop(EndpointStack(url, region, json.loads(outputs.read_text())))


@pytest.fixture(scope="module")
def shop(timings) -> Iterator[Shop]:
    """For the order journey: waits for people far longer than any step of it, so however slow the machine
    the customer and the barista are never timed out on MiniStack's real clock."""
    installed_ministack()
    with running_ministack() as url:
        started = time.perf_counter()
        patient = deployed(url, "customerTimeoutSeconds=900", "baristaTimeoutSeconds=900")
        timings["deploy"] = time.perf_counter() - started
        yield patient


# MiniStack waits out the customer timeout on real time, and its functions start as processes. The order
# must be stored (a function's work) before the timeout fires, or the timeout finds nothing to cancel:
# the timeout leaves a slow machine's cold start many times the room it needs (about 10 s, measured under
# the full suite).
IMPATIENT_SECONDS = 45


@pytest.fixture(scope="module")
def impatient_shop() -> Iterator[Shop]:
    """In a MiniStack of its own: a customer timeout short enough to wait out."""
    installed_ministack()
    with running_ministack() as url:
        yield deployed(url, f"customerTimeoutSeconds={IMPATIENT_SECONDS}")


@pytest.fixture(scope="module")
def completed(shop, timings) -> str:
    started = time.perf_counter()
    order_id = shop.walk_to_completed("customer-1")
    timings["journey"] = time.perf_counter() - started
    return order_id


def test_an_order_walks_from_the_scan_to_completed_through_both_workflows(shop, completed):
    item = shop.order(completed)
    assert item["ORDERSTATE"]["S"] == "COMPLETED"
    assert item["USERID"]["S"] == "customer-1"
    assert item["baristaUserId"]["S"] == "barista-1"
    assert json.loads(item["drinkOrder"]["S"])["drink"] == "Cappuccino"
    states = shop.target.client("stepfunctions")

    def ended() -> bool:  # the run ends after the order is COMPLETED: it still announces orderFinished
        runs = states.list_executions(stateMachineArn=shop.outputs["orderProcessorArn"])["executions"]
        return bool(runs) and "RUNNING" not in {run["status"] for run in runs}

    eventually(ended, "the OrderProcessor run to end")


def test_the_sale_is_counted_once(shop, completed):
    eventually(lambda: shop.sales().get("TotalSales"), "the sale counted")
    eventually(lambda: shop.queue_drained(shop.outputs["metricsQueueUrl"]), "the metrics queue drained")
    assert shop.sales() == {"Cappuccino": 1, "TotalSales": 1}


def test_the_all_events_log_gets_each_event_of_the_order(shop, completed):
    logs, group = shop.target.client("logs"), shop.outputs["allEventsLogGroup"]
    if not logs.describe_log_streams(logGroupName=group)["logStreams"]:
        pytest.skip("MiniStack 1.5.33 does not deliver EventBridge events to CloudWatch Logs targets")
    assert any(
        completed in event["message"] for event in logs.filter_log_events(logGroupName=group)["events"]
    )


def test_the_sale_reaches_cloudwatch_as_an_emf_metric(shop, completed):
    metrics = shop.target.client("cloudwatch").list_metrics(Namespace="Serverlesspresso")["Metrics"]
    if not metrics:
        pytest.skip("MiniStack 1.5.33 does not turn embedded-metric log lines into CloudWatch metrics")
    assert {"Name": "Drink", "Value": "Cappuccino"} in [d for m in metrics for d in m["Dimensions"]]


def test_the_config_api_answers_the_menu_first_over_http(shop):
    api_id = shop.outputs["APIGWEndpointConfigService"].split("//", 1)[1].split(".", 1)[0]
    url = f"{shop.target.endpoint_url}/restapis/{api_id}/Prod/_user_request_/config"
    answer = requests.get(url, timeout=30)
    if answer.status_code != 200:
        pytest.skip(
            "MiniStack 1.5.33 does not run REST APIs' AWS service integrations with mapping templates "
            f"(GET /config answered {answer.status_code})"
        )
    assert answer.json()[0]["PK"]["S"] == "menu"


def test_no_dead_letter_queue_holds_a_message(shop, completed, timings, record_property):
    """Runs after the journey's tests: what the journey set off has had its time."""
    waiting = shop.dead_letters()
    assert waiting and {queue: count for queue, count in waiting.items() if count} == {}
    record_property(
        "timing",
        f"MiniStack second opinion: deploy {timings['deploy']:.1f} s, "
        f"order journey {timings['journey']:.1f} s",
    )


def test_a_customer_who_never_chooses_a_drink_times_out_and_the_order_is_cancelled(impatient_shop):
    shop = impatient_shop
    order_id = shop.new_order("customer-2")
    eventually(lambda: shop.order(order_id).get("TaskToken"), "the order parked for its drink")

    def cancelled() -> bool:
        return shop.order(order_id)["ORDERSTATE"]["S"] == "CANCELLED"

    eventually(cancelled, "the customer timeout", IMPATIENT_SECONDS + WAIT_LIMIT_SECONDS)
    assert shop.order(order_id)["reason"]["S"] == "Customer timedout"
