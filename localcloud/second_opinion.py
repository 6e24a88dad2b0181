"""A second opinion: MiniStack, an AWS emulator this project did not write, run from its own venv on
127.0.0.1, and the order journey as plain AWS calls that run the same against it and the local cloud.

- `running_ministack(python)`: MiniStack on a free loopback port, in its own process group, stopped by its
  PID when the block ends. Its functions run as `python3` subprocesses, so its venv comes first on PATH
  (the venv has boto3, as AWS's Lambda runtime does).
- `Shop(target)`: a deployed stack driven through its AWS APIs (`target` has `outputs` and
  `client(service)`: an `endpoint.EndpointStack`, or a `cloud.LocalCloud`); `walk_to_completed` takes one
  order from the scan to COMPLETED through both workflows.

Install MiniStack with `python3 -m venv .ministack && .ministack/bin/pip install -r .ci/ministack.txt`.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from localcloud import polling

REPO = Path(__file__).resolve().parent.parent
MINISTACK_PYTHON = Path(os.environ.get("MINISTACK_PYTHON", REPO / ".ministack" / "bin" / "python"))
START_LIMIT_SECONDS = 120
WAIT_LIMIT_SECONDS = 180  # MiniStack starts each function as a process: slow on a busy machine
CAPPUCCINO = {"drink": "Cappuccino", "modifiers": [], "icon": "barista-icons_cappuccino-alternative"}


def eventually(check: Callable[[], Any], what: str, limit: float = WAIT_LIMIT_SECONDS) -> Any:
    return polling.eventually(check, what, limit)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        return requests.get(f"{url}/_ministack/health", timeout=2).status_code == 200
    except requests.RequestException:
        return False


@contextmanager
def running_ministack(python: Path = MINISTACK_PYTHON) -> Iterator[str]:
    """MiniStack's endpoint URL while the block runs (see the module doc)."""
    if not python.exists():
        raise FileNotFoundError(
            f"MiniStack is not installed at {python}: "
            "python3 -m venv .ministack && .ministack/bin/pip install -r .ci/ministack.txt"
        )
    folder = Path(tempfile.mkdtemp(prefix="ministack-"))
    port = _free_port()
    environment = {
        **os.environ,
        "BIND_HOST": "127.0.0.1",
        "GATEWAY_PORT": str(port),
        "TMPDIR": str(folder),
        "PATH": f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    log_path = folder / "ministack.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(python), "-m", "ministack"],
            env=environment,
            cwd=folder,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its function workers end with it
        )
        url = f"http://127.0.0.1:{port}"
        try:
            eventually(lambda: _healthy(url) or process.poll() is not None, "MiniStack", START_LIMIT_SECONDS)
            if process.poll() is not None:
                raise RuntimeError(f"MiniStack stopped at start:\n{log_path.read_text()[-3000:]}")
            yield url
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


class Shop:
    """A deployed shop driven through its AWS APIs: events in, the tables and workflows read back."""

    def __init__(self, target: Any):
        self.target, self.outputs = target, target.outputs

    def new_order(self, user_id: str) -> str:
        """What a scan sets off: `Validator.NewOrder` on the bus; returns the new order's id."""
        order_id = str(uuid.uuid4())
        answer = self.target.client("events").put_events(
            Entries=[
                {
                    "Source": self.outputs["eventSource"],
                    "DetailType": "Validator.NewOrder",
                    "EventBusName": self.outputs["eventBusName"],
                    "Detail": json.dumps({"userId": user_id, "orderId": order_id}),
                }
            ]
        )
        if answer["FailedEntryCount"]:
            raise RuntimeError(f"the bus refused the order: {answer['Entries']}")
        return order_id

    def order(self, order_id: str) -> dict[str, Any]:
        table, key = self.outputs["orderTableName"], {"PK": {"S": "orders"}, "SK": {"S": order_id}}
        dynamodb = self.target.client("dynamodb")
        return dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item") or {}

    def manage(self, order_id: str, action: str, body: dict | None = None, barista: str = "") -> dict:
        """One OrderManager run, as `PUT /orders/{id}` starts it."""
        request = {"action": action, "orderId": order_id, "baristaUserId": barista, "body": body or {}}
        return self.target.client("stepfunctions").start_sync_execution(
            stateMachineArn=self.outputs["orderManagerArn"], input=json.dumps(request)
        )

    def walk_to_completed(self, user_id: str, barista: str = "barista-1") -> str:
        """Scan, choose a Cappuccino, make and complete it; returns the order id once it is COMPLETED."""
        order_id = self.new_order(user_id)
        eventually(lambda: self.order(order_id).get("TaskToken"), "the order parked for its drink")
        placed = self.manage(order_id, "", {"userId": user_id, **CAPPUCCINO})
        if placed["status"] != "SUCCEEDED":
            raise RuntimeError(f"the drink was refused: {placed}")
        eventually(lambda: self.order(order_id).get("orderNumber"), "the order numbered for the barista")
        for action in ("make", "complete"):
            answer = self.manage(order_id, action, barista=barista)
            if answer["status"] != "SUCCEEDED":
                raise RuntimeError(f"{action} failed: {answer}")
        eventually(lambda: self.order(order_id)["ORDERSTATE"]["S"] == "COMPLETED", "the order completed")
        return order_id

    def sales(self) -> dict[str, int]:
        """Today's aggregates of the metrics table: drink (and `TotalSales`) → count."""
        items = self.target.client("dynamodb").scan(TableName=self.outputs["metricsTableName"])["Items"]
        return {
            i["SK"]["S"].split("#", 1)[1]: int(i["val"]["N"]) for i in items if i["PK"]["S"] == "Aggregate"
        }

    def queue_drained(self, queue_url: str) -> bool:
        """No message waiting in the queue and none being handled (received, not yet deleted)."""
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        counts = self.target.client("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=names)
        return all(int(counts["Attributes"][name]) == 0 for name in names)

    def dead_letters(self) -> dict[str, int]:
        """Every dead-letter queue of the stack → the messages it holds."""
        sqs = self.target.client("sqs")
        counts = {}
        for url in sqs.list_queues().get("QueueUrls", []):
            if "dlq" in url.rsplit("/", 1)[-1]:
                attributes = sqs.get_queue_attributes(
                    QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
                )
                counts[url.rsplit("/", 1)[-1]] = int(attributes["Attributes"]["ApproximateNumberOfMessages"])
        return counts
