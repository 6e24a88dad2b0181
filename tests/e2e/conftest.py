"""End-to-end fixtures: the REAL program (rules, functions, ASL wiring) deployed into the local cloud.

``local_cloud`` is one deployed ``local`` stack per test module (customer timeout 3 s, barista 6 s,
capacity 20) on a virtual clock: its timeouts fire only when a test lets time pass (``advance``, or
``finished`` waiting for a parked run), never because the machine was slow. Tests in a module share it
and keep apart by unique order ids. Helpers read what a user
would see: the order item, the all-events log group, OrderProcessor executions.
"""

from __future__ import annotations

import json
import logging
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]

WAIT_LIMIT_SECONDS = 30.0
# Served stacks run on a virtual clock with long waits for people, so no outcome depends on machine speed.
# The QR code is the one wall-clock rule left: a module must stay inside one interval (see served_config).
SERVED_WAITS = {"customerTimeoutSeconds": 600, "baristaTimeoutSeconds": 600, "qrTokensPerBucket": 1000}
MODULE_BUDGET_MS = 10 * 60_000
LONGEST_QR_INTERVAL_MINUTES = 1440  # the config's upper bound


def served_config(now_ms: int | None = None, budget_ms: int = MODULE_BUDGET_MS) -> dict[str, int]:
    """The served stack's config, with the longest QR interval whose current code stays valid for the
    module's whole budget: one code all module long, at any time of day, without waiting for a new one.
    Intervals a minute apart have their ends in different places, so one of the first few always fits."""
    now_ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    for minutes in range(LONGEST_QR_INTERVAL_MINUTES, LONGEST_QR_INTERVAL_MINUTES - 60, -1):
        interval_ms = minutes * 60_000
        if interval_ms - now_ms % interval_ms > budget_ms:
            return {**SERVED_WAITS, "qrTimeIntervalMinutes": minutes}
    raise AssertionError(f"no QR interval keeps {budget_ms} ms inside one code at {now_ms}")


CAPPUCCINO = {"drink": "Cappuccino", "modifiers": [], "icon": "barista-icons_cappuccino-alternative"}


@pytest.fixture(scope="module")
def local_cloud() -> Iterator[Any]:
    from localcloud.cloud import LocalCloud
    from localcloud.emulator.clock import VirtualClock

    logging.getLogger("moto").setLevel(logging.CRITICAL)
    with LocalCloud.running("local", clock=VirtualClock()) as cloud:
        yield cloud
        assert_apps_heard_nothing_private(cloud)


def assert_apps_heard_nothing_private(cloud: Any) -> None:
    """D15 over everything a module's scenarios published: no task token, execution id or QR code on any
    topic, and no customer's user id on the staff topic."""
    codes = {item["last_code"] for item in cloud.table("validator-service-buckets").scan()["Items"]}
    orders = cloud.table("shop-data-orders").scan()["Items"]
    staff = {item.get("baristaUserId") for item in orders}
    customers = {item.get("USERID", "") for item in orders if len(item.get("USERID", "")) >= 8} - staff
    leaks = []
    for message in cloud.published():
        keys, values = _keys_and_values(message.payload)
        private = keys & {"TaskToken", "executionId", "executionArn", "last_code"} or values & codes
        if message.topic == "serverlesspresso-admin":
            private = private or keys & {"userId", "USERID"} or values & customers
        if private:
            leaks.append((message.topic, message.payload.get("type"), sorted(private)))
    assert leaks == [], f"the apps heard what D15 keeps from them: {leaks[:5]}"


def _keys_and_values(document: Any) -> tuple[set[str], set[str]]:
    keys: set[str] = set()
    values: set[str] = set()
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            keys.update(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str):
            values.add(node)
    return keys, values


@dataclass
class Served:
    """A stack served on 127.0.0.1 as `serve` serves it: the cloud, the settings `serve` writes, and
    signed-in clients for the admin, the barista, a customer and another customer."""

    cloud: Any
    settings: dict[str, Any]
    clients: dict[str, Any]


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    from localcloud.apps import AppClient, sign_in
    from localcloud.cloud import LocalCloud
    from localcloud.emulator.clock import VirtualClock
    from localcloud.serve import create_users, serving, settings_document

    logging.getLogger("moto").setLevel(logging.CRITICAL)
    with (
        LocalCloud.running("local", served_config(), clock=VirtualClock()) as cloud,
        serving(outputs=cloud.outputs) as front,
    ):
        set_orders_per_customer(cloud, SERVED_ORDERS_PER_CUSTOMER)
        users = create_users(cloud.outputs["userPoolId"])
        settings = settings_document(cloud.outputs, front, users)
        clients = {role: AppClient.signed_in_as(settings, role) for role in users}
        other = create_users(cloud.outputs["userPoolId"], domain="elsewhere.local")["customer"]
        clients["other"] = AppClient(settings, sign_in(settings, other.email, other.password))
        yield Served(cloud, settings, clients)
        assert_apps_heard_nothing_private(cloud)


SERVE_START_LIMIT_SECONDS = 180


@contextmanager
def serve_process(**overrides: str) -> Iterator[Path]:
    """`python -m localcloud serve` as a person starts it, in a process of its own (the served config plus
    `overrides`); yields its outputs file once it exists, then stops it with SIGTERM and checks it ended
    cleanly."""
    folder = Path(tempfile.mkdtemp(prefix="serve-"))
    path = folder / "outputs.json"
    config = [f"--config={key}={value}" for key, value in {**served_config(), **overrides}.items()]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "localcloud",
            "serve",
            "--stack=local",
            "--port=0",
            f"--outputs-file={path}",
            *config,
        ],
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=(folder / "serve.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        eventually(
            lambda: path.exists() or process.poll() is not None,
            "serve to write its outputs",
            SERVE_START_LIMIT_SECONDS,
        )
        assert process.poll() is None, (folder / "serve.log").read_text()
        yield path
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=120)
        log = (folder / "serve.log").read_text()
        shutil.rmtree(folder, ignore_errors=True)
    assert code == 0, log
    assert "Stopping." in log


def run_cli(*arguments: str) -> subprocess.CompletedProcess:
    """``python -m localcloud <arguments>`` in a process of its own, as a person runs it; it must succeed."""
    done = subprocess.run(
        [sys.executable, "-m", "localcloud", *arguments],
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def new_id(prefix: str = "e2e") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def eventually(check: Callable[[], Any], what: str, limit: float = WAIT_LIMIT_SECONDS) -> Any:
    from localcloud.polling import eventually as poll

    return poll(check, what, limit)


def order(cloud: Any, order_id: str) -> dict[str, Any] | None:
    return (
        cloud.table("shop-data-orders")
        .get_item(Key={"PK": "orders", "SK": order_id}, ConsistentRead=True)
        .get("Item")
    )


def counter(cloud: Any) -> int:
    """Order numbers taken so far, over every trading day's counter."""
    items = cloud.table("shop-data-counting").scan(ConsistentRead=True)["Items"]
    return sum(int(item["IDvalue"]) for item in items if str(item["PK"]).startswith("orderID#"))


# The served stacks' customers park many orders each; the per-customer limit has its own tests.
SERVED_ORDERS_PER_CUSTOMER = 1000


def set_orders_per_customer(cloud: Any, limit: int) -> None:
    """What the staff change in the config item: how many orders one customer may have open at once."""
    cloud.table("shop-data-config").update_item(
        Key={"PK": "config"},
        UpdateExpression="SET maxOrdersPerUser = :limit",
        ExpressionAttributeValues={":limit": limit},
    )


def set_store_open(cloud: Any, is_open: bool) -> None:
    cloud.table("shop-data-config").update_item(
        Key={"PK": "config"},
        UpdateExpression="SET storeOpen = :open",
        ExpressionAttributeValues={":open": is_open},
    )


def logged_events(cloud: Any, order_id: str | None = None) -> list[dict[str, Any]]:
    """Every event in the all-events log group (oldest first), optionally only those of one order."""
    logs = cloud.client("logs")
    group = cloud.outputs["allEventsLogGroup"]
    events, kwargs = [], {"logGroupName": group}
    while True:
        page = logs.filter_log_events(**kwargs)
        events.extend(json.loads(e["message"]) for e in page["events"])
        if not page.get("nextToken"):
            break
        kwargs["nextToken"] = page["nextToken"]
    return [e for e in events if order_id is None or str(e.get("detail", {}).get("orderId")) == order_id]


def detail_types(cloud: Any, order_id: str) -> list[str]:
    return [event["detail-type"] for event in logged_events(cloud, order_id)]


# The input of every OrderProcessor run seen so far, by execution ARN (an input never changes), so
# finding the runs of one order describes each run once instead of on every poll.
_run_inputs: dict[str, Any] = {}


def processor_runs(cloud: Any, where: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
    """OrderProcessor executions (described, oldest first) whose input ``detail`` satisfies ``where``."""
    sfn = cloud.client("stepfunctions")
    found = []
    for page in sfn.get_paginator("list_executions").paginate(
        stateMachineArn=cloud.outputs["orderProcessorArn"]
    ):
        for execution in page["executions"]:
            arn = execution["executionArn"]
            if arn not in _run_inputs:
                _run_inputs[arn] = json.loads(sfn.describe_execution(executionArn=arn)["input"]).get("detail")
            detail = _run_inputs[arn]
            if isinstance(detail, dict) and where(detail):
                found.append(sfn.describe_execution(executionArn=arn))
    return sorted(found, key=lambda run: run["startDate"])


def executions_of(cloud: Any, order_id: str) -> list[dict[str, Any]]:
    return processor_runs(cloud, lambda detail: detail.get("orderId") == order_id)


def execution_of(cloud: Any, order_id: str) -> dict[str, Any]:
    return eventually(lambda: (executions_of(cloud, order_id) or [None])[0], f"the execution of {order_id}")


def finished(cloud: Any, order_id: str, limit: float = WAIT_LIMIT_SECONDS) -> dict[str, Any]:
    """The order's OrderProcessor run once it has ended; on a virtual clock, time passes from one
    pending timeout to the next until it has (``limit`` then bounds the virtual seconds)."""

    def done() -> dict[str, Any] | None:
        runs = executions_of(cloud, order_id)
        return runs[0] if runs and runs[0]["status"] != "RUNNING" else None

    if not cloud.clock.virtual:
        return eventually(done, f"the execution of {order_id} to finish", limit)
    cloud.settle()
    give_up = cloud.clock.now() + limit
    while (run := done()) is None:
        if not cloud.until_next_timeout(within=give_up - cloud.clock.now()):
            raise AssertionError(f"the execution of {order_id} did not finish within {limit} virtual s")
    return run


def visited_states(cloud: Any, execution_arn: str) -> list[str]:
    history = cloud.client("stepfunctions").get_execution_history(executionArn=execution_arn, maxResults=1000)
    return [
        e["stateEnteredEventDetails"]["name"] for e in history["events"] if "stateEnteredEventDetails" in e
    ]


def park(cloud: Any, order_id: str, user_id: str = "1") -> dict[str, Any]:
    """Scenario 6: a Validator.NewOrder event; returns the order item once token #1 is stored."""
    cloud.put_event("Validator.NewOrder", {"orderId": order_id, "userId": user_id})
    return eventually(
        lambda: (order(cloud, order_id) or {}).get("TaskToken") and order(cloud, order_id), "parked"
    )


def choose(
    cloud: Any, order_id: str, user_id: str = "1", drink: dict | None = None, action: str = ""
) -> dict:
    body = {"userId": user_id, **(drink or CAPPUCCINO)}
    return cloud.order_manager(
        {"action": action, "body": body, "orderId": order_id, "baristaUserId": user_id}
    )


def manage(cloud: Any, action: str, order_id: str, barista: str = "3") -> dict:
    return cloud.order_manager({"action": action, "body": {}, "orderId": order_id, "baristaUserId": barista})


def to_barista(cloud: Any, order_id: str, user_id: str = "1") -> dict[str, Any]:
    """Scenario 7: park, choose a Cappuccino, wait until the order has its number (token #2)."""
    park(cloud, order_id, user_id)
    answer = choose(cloud, order_id, user_id)
    assert answer["status"] == "SUCCEEDED", answer
    eventually(lambda: (order(cloud, order_id) or {}).get("orderNumber"), "number")
    cloud.settle()  # the number is written before the order is marked announced: wait for both
    return order(cloud, order_id)
