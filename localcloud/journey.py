"""One order's journey: every event of that order in the all-events log group, in time order, with the state
it moved the order to (the workshop's "order journey" page). `serve` answers it at `/journey/<orderId>` for
the staff; `simulate` names one completed and one timed-out order, and its report shows their journeys.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# What each event means for the order, as the apps show it.
STATES: Mapping[str, str] = {
    "Validator.NewOrder": "scanned: the QR code admitted it",
    "OrderProcessor.WorkflowStarted": "CREATED: waiting for the customer's drink",
    "OrderProcessor.ShopUnavailable": "refused: the shop is closed or full",
    "OrderProcessor.WaitingCompletion": "numbered: waiting for the barista",
    "OrderManager.WaitingCompletion": "in the baristas' queue",
    "OrderManager.MakeOrder": "being made",
    "OrderManager.OrderCompleted": "COMPLETED",
    "OrderManager.OrderCancelled": "CANCELLED by the barista",
    "OrderProcessor.OrderTimeOut": "CANCELLED: timed out",
    "OrderProcessor.orderFinished": "its workflow ended",
}
# What each step shows beside its state (never a token, an execution id or the QR code: D15).
SHOWN = ("orderNumber", "drink", "baristaUserId", "cause")


@dataclass(frozen=True)
class Step:
    time: str  # the event's time, as EventBridge stamped it
    logged_ms: int  # when the log group received it: orders steps within one second
    detail_type: str
    state: str
    facts: dict[str, str]


def steps(log_events: Iterable[Mapping[str, Any]], order_id: str) -> list[Step]:
    """The order's steps from CloudWatch Logs events (``message`` is the EventBridge event as JSON)."""
    found = []
    for log_event in log_events:
        try:
            event = json.loads(log_event["message"])
        except (KeyError, TypeError, ValueError):
            continue
        detail = event.get("detail") if isinstance(event, dict) else None
        if not isinstance(detail, dict) or str(detail.get("orderId")) != order_id:
            continue
        detail_type = str(event.get("detail-type", ""))
        state = STATES.get(detail_type, detail_type)
        if detail_type == "OrderManager.MakeOrder" and not detail.get("baristaUserId"):
            state = "back in the baristas' queue"
        found.append(
            Step(
                str(event.get("time", "")),
                int(log_event.get("timestamp", 0)),
                detail_type,
                state,
                _facts(detail),
            )
        )
    return sorted(found, key=lambda step: (step.time, step.logged_ms))


def _facts(detail: Mapping[str, Any]) -> dict[str, str]:
    facts = {key: str(detail[key]) for key in SHOWN if detail.get(key) not in (None, "")}
    drink = detail.get("drinkOrder")
    if isinstance(drink, Mapping) and drink.get("drink"):
        facts["drink"] = str(drink["drink"])
    return facts


def log_events(logs: Any, group: str) -> list[dict[str, Any]]:
    """Every event of a log group (a boto3 CloudWatch Logs client), all pages."""
    found, request = [], {"logGroupName": group}
    while True:
        page = logs.filter_log_events(**request)
        found.extend(page["events"])
        if not page.get("nextToken"):
            return found
        request["nextToken"] = page["nextToken"]


def render_html(order_id: str, order_steps: list[Step], *, heading: str = "Order") -> str:
    """The journey as an HTML fragment: a table, one row per step."""
    rows = "".join(
        f"<tr><td>{html.escape(step.time)}</td><td>{html.escape(step.detail_type)}</td>"
        f"<td>{html.escape(step.state)}</td>"
        f"<td>{html.escape(', '.join(f'{k} {v}' for k, v in step.facts.items()))}</td></tr>"
        for step in order_steps
    )
    return (
        f"<h2>{html.escape(heading)} {html.escape(order_id)}</h2>"
        "<table><thead><tr><th>Time</th><th>Event</th><th>The order is now</th><th>Details</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def page(order_id: str, order_steps: list[Step]) -> str:
    """A whole page for one order's journey."""
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>Order {html.escape(order_id)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{padding:.3em .8em;text-align:left}"
        "tr:nth-child(even){background:#f4f1ec}</style></head><body>"
        f"{render_html(order_id, order_steps)}</body></html>"
    )
