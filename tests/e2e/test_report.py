"""`simulate --orders 50 --seed 1 --report day.html` as a person runs it, then the page in headless Chromium:
each chart rendered, with the day's numbers. The expected numbers come from the day's plan (the same seed
gives the same day), not from the report."""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from werkzeug.wrappers import Response

from components.data_stores import SEED_MENU
from localcloud import report
from localcloud.simulator import OUTCOMES, menu_from_item, plan_day
from tests.e2e.browser import page_result
from tests.e2e.conftest import run_cli

REPO = Path(__file__).resolve().parents[2]
ORDERS, SEED, CAPACITY = 50, 1, 20

# The report in a frame of a page of the test's own origin, which reads back what Plotly drew.
INSPECTOR = """<!doctype html><meta charset="utf-8">
<iframe id="day" src="/day.html" width="1200" height="900"></iframe><script>
document.getElementById("day").addEventListener("load", () => setTimeout(() => {
  const doc = document.getElementById("day").contentDocument;
  const charts = {};
  for (const chart of doc.querySelectorAll(".js-plotly-plot")) {
    charts[chart.id] = {
      svgs: chart.querySelectorAll(".main-svg").length,
      marks: chart.querySelectorAll(".point, .scatterlayer .trace path.js-line").length,
      title: (chart.querySelector(".gtitle") || {}).textContent || "",
      traces: chart.data.map(t => ({name: t.name, x: t.x ? Array.from(t.x) : null,
                                     y: t.y ? Array.from(t.y) : null})),
    };
  }
  const journeys = Array.from(doc.querySelectorAll("h2")).map(h => h.textContent);
  fetch("/result", {method: "POST", body: JSON.stringify({charts, journeys})});
}, 500));
</script>"""


@pytest.fixture(scope="module")
def day() -> tuple[Path, str]:
    folder = Path(tempfile.mkdtemp(prefix="report-"))
    path = folder / "day.html"
    done = run_cli("simulate", f"--orders={ORDERS}", f"--seed={SEED}", f"--report={path}")
    return path, done.stdout


def test_the_terminal_shows_a_summary_that_fits_a_screen_and_names_two_orders_to_look_at(day):
    _, printed = day
    lines = printed.strip().splitlines()
    assert len(lines) <= 40 and max(len(line) for line in lines) <= 160
    assert "All invariants hold" in printed and "Cost per 1000 completed orders" in printed
    assert "A completed order: order " in printed
    assert "An order whose customer timed out: order " in printed


def test_the_report_opens_with_no_network_and_every_chart_renders_the_days_numbers(day):
    """The browser resolves no name but localhost: the charts render only if the page needs no network."""
    path, _ = day
    text = path.read_text()
    result, _ = page_result(
        {
            "/": lambda: Response(INSPECTOR, content_type="text/html"),
            "/day.html": lambda: Response(text, content_type="text/html"),
        }
    )
    charts = result["charts"]
    assert set(charts) == set(report.CHART_IDS)
    for chart, drawn in charts.items():
        assert drawn["svgs"] >= 1 and drawn["marks"] >= 1 and drawn["title"], (chart, drawn)

    plan = plan_day(ORDERS, seed=SEED, menu=menu_from_item(SEED_MENU), capacity=CAPACITY)
    by_outcome = {trace["name"]: trace["y"] for trace in charts["outcomes"]["traces"]}
    assert list(by_outcome) == list(OUTCOMES)
    for number, wave in enumerate(plan.waves):
        expected = Counter(customer.expected for customer in wave.customers)
        assert {outcome: by_outcome[outcome][number] for outcome in OUTCOMES} == {
            outcome: expected[outcome] for outcome in OUTCOMES
        }, f"wave {number + 1}"
    running, capacity = charts["capacity"]["traces"]
    assert set(capacity["y"]) == {CAPACITY} and max(running["y"]) <= CAPACITY
    customer_waits, barista_waits = charts["waits"]["traces"]
    completed = sum(1 for customer in plan.customers if customer.expected == "completed")
    assert len(barista_waits["x"]) == completed
    assert len(customer_waits["x"]) == sum(1 for c in plan.customers if c.reaches_barista)
    assert sum(charts["day-cost"]["traces"][0]["y"]) > 0
    assert [trace["name"] for trace in charts["month-cost"]["traces"]] == ["fixed", "usage"]
    assert any("completed order" in heading for heading in result["journeys"])
    assert json.loads(text.split("id='report-data'>", 1)[1].split("</script>", 1)[0])["outcomes"]
