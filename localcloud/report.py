"""The simulated day as a picture: `simulate --report day.html` writes one self-contained HTML file (plotly,
its script inlined: it opens with no network) with the day's charts and two orders' journeys.

- Orders by outcome, wave by wave (how the day went);
- running orders against the shop's capacity, after each wave arrived (when capacity turned people away);
- how long customers and baristas took (the customer: scan to drink chosen; the barista: drink chosen to
  completed), in seconds of the run: the virtual clock skips every timed wait, so these are the shop's
  own latencies, not a conference's minutes;
- what the day cost per service, and the month of this design beside the workshop's.

Each chart's numbers also go into the page's `#report-data` block, which the browser test reads back
after the page rendered.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from localcloud import costs, journey

CHART_IDS = ("outcomes", "capacity", "waits", "day-cost", "month-cost")


def _figures(result: Any, months: tuple[Any, Any] | None) -> dict[str, Any]:
    import plotly.graph_objects as go

    from localcloud.simulator import OUTCOMES

    plan = result.plan
    waves = [wave.index + 1 for wave in plan.waves]
    outcome_of = {planned: result.outcomes.get(actual) for planned, actual in result.order_ids.items()}
    outcomes = go.Figure(
        [
            go.Bar(
                name=outcome,
                x=waves,
                y=[
                    sum(1 for c in wave.customers if outcome_of.get(c.order_id) == outcome)
                    for wave in plan.waves
                ],
            )
            for outcome in OUTCOMES
        ],
        layout={"barmode": "stack", "title": "Orders by outcome, wave by wave", "xaxis_title": "wave"},
    )
    running = {index + 1: count for index, _, count in result.timeline}
    capacity = go.Figure(
        [
            go.Scatter(
                name="running orders", x=list(running), y=list(running.values()), mode="lines+markers"
            ),
            go.Scatter(name="capacity", x=waves, y=[plan.capacity] * len(waves), mode="lines"),
        ],
        layout={"title": "Running orders against capacity, after each wave arrived", "xaxis_title": "wave"},
    )
    waits = go.Figure(
        [
            go.Histogram(name="customer: scan to drink chosen", x=_waits(result, "scanned", "ordered")),
            go.Histogram(name="barista: drink chosen to completed", x=_waits(result, "ordered", "served")),
        ],
        layout={"barmode": "overlay", "title": "How long it took (seconds of the run)", "xaxis_title": "s"},
    )
    by_service: Counter[str] = Counter()
    for line in costs.price(result.usage, costs.PriceList.load()).lines:
        by_service[line.service] += line.usd
    services = sorted(by_service, key=lambda service: -by_service[service])
    day_cost = go.Figure(
        [go.Bar(x=services, y=[round(by_service[s], 6) for s in services], name="USD")],
        layout={"title": "What the day cost, per service (USD)"},
    )
    figures = {"outcomes": outcomes, "capacity": capacity, "waits": waits, "day-cost": day_cost}
    if months is not None:
        designs = [month for month in months if month is not None]
        figures["month-cost"] = go.Figure(
            [
                go.Bar(
                    name="fixed", x=[m.title for m in designs], y=[round(m.fixed_usd, 2) for m in designs]
                ),
                go.Bar(
                    name="usage", x=[m.title for m in designs], y=[round(m.usage_usd, 2) for m in designs]
                ),
            ],
            layout={"barmode": "stack", "title": f"The month ({designs[0].profile.describe()}), USD"},
        )
    return figures


def _waits(result: Any, start: str, end: str) -> list[float]:
    return [
        round(moments[end] - moments[start], 3)
        for moments in result.moments.values()
        if start in moments and end in moments
    ]


def chart_data(figures: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Each chart's traces as plain numbers: what the page must show."""
    data = {}
    for chart, figure in figures.items():
        data[chart] = [
            {
                "name": trace.name,
                "x": list(trace.x) if trace.x is not None else None,
                "y": list(trace.y) if trace.y is not None else None,
            }
            for trace in figure.data
        ]
    return data


def write(
    path: Path,
    result: Any,
    months: tuple[Any, Any] | None = None,
    journeys: Sequence[tuple[str, str, list[journey.Step]]] = (),
) -> dict[str, Any]:
    """Write the report; returns what each chart shows (`chart_data`)."""
    import plotly.io

    figures = _figures(result, months)
    parts = []
    for number, (chart, figure) in enumerate(figures.items()):
        parts.append(
            plotly.io.to_html(
                figure,
                full_html=False,
                include_plotlyjs=number == 0,  # the library once, inline: no network to open it
                div_id=chart,
                default_width="100%",
                default_height="420px",
            )
        )
    counts = result.counts
    summary = ", ".join(f"{counts[outcome]} {outcome}" for outcome in counts) or "no order"
    stories = "".join(
        journey.render_html(order_id, steps, heading=heading) for heading, order_id, steps in journeys
    )
    data = chart_data(figures)
    title = f"A simulated conference day: {len(result.plan.customers)} customers, seed {result.plan.seed}"
    path.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>A simulated conference day</title>"
        "<style>body{font-family:sans-serif;margin:2em;max-width:1100px}td,th{padding:.3em .8em;"
        "text-align:left}tr:nth-child(even){background:#f4f1ec}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>"
        f"<p>{html.escape(summary)}. Every invariant {'held' if result.ok else 'did NOT hold'}.</p>"
        + "".join(parts)
        + stories
        + f"<script type='application/json' id='report-data'>{json.dumps(data)}</script>"
        + "</body></html>",
        encoding="utf-8",
    )
    return data
