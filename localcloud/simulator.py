"""A conference day at the coffee bar, run against the local cloud, with its invariants and its cost.

``plan_day`` is pure: from a seed, the menu and the shop's capacity it decides who arrives in which wave,
who never orders (customer timeout), who first asks for something off the menu, what each customer
drinks, and what the baristas do (make then complete; cancel; unmake first; forget the order). A peak
wave brings more customers at once than the shop's capacity; an optional closed wave arrives while the
shop is closed. Every customer's expected end follows from the plan.

``run_day`` serves the deployed program's front door (``localcloud.serve``) and drives the plan through it
the way the apps do: the display (an admin) shows the QR code and opens and closes the shop with
``PUT /store``, customers scan it and order from their phones (signed-in customer accounts) with
``PUT /orders/{id}``, baristas make, unmake, complete and cancel with their own accounts; the workflows'
timeouts do the rest. On a virtual clock (``simulate`` uses one) time passes only when the driver lets it:
to free room for the next arrivals, and at the end of the day; so the same seed gives the same day on a
slow machine as on a fast one. Capacity is deterministic because the driver only ever sends more arrivals
than there is room for in a peak, when the shop is otherwise empty (the first ``capacity`` are let in and
parked before the others arrive). It then observes the outcome of every order (order table, OrderProcessor
executions and their history, metrics table, CloudWatch, dead-letter queues), counts what the apps were
sent on each IoT topic, checks the invariants and prices the day's usage (API Gateway requests and IoT
messages included).
"""

from __future__ import annotations

import json
import random
import secrets
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from localcloud import costs
from localcloud.apps import AppClient, sign_in

COMPLETED = "completed"
CANCELLED = "cancelled"
CUSTOMER_TIMEOUT = "timed out (customer)"
BARISTA_TIMEOUT = "timed out (barista)"
REJECTED_CAPACITY = "rejected (capacity)"
REJECTED_CLOSED = "rejected (shop closed)"
CLOSED_AT_END = "cancelled (end of day)"
OUTCOMES = (
    COMPLETED,
    CANCELLED,
    CUSTOMER_TIMEOUT,
    BARISTA_TIMEOUT,
    REJECTED_CAPACITY,
    REJECTED_CLOSED,
    CLOSED_AT_END,
)

ADMITTED, FULL, CLOSED = "admitted", "full", "closed"
NORMAL_WAVE, PEAK_WAVE, CLOSED_WAVE, CLOSING_WAVE = "normal", "peak", "closed", "closing"
ORDERS_PER_PEAK = 250
INVALID_DRINK = "milkshake"
UNOFFERED_MODIFIERS = ("Whipped cream", "Caramel drizzle", "Extra hot", "Oat milk")


# --------------------------------------------------------------------------- the plan (pure)


@dataclass(frozen=True)
class MenuDrink:
    drink: str
    icon: str
    options: frozenset[str] = frozenset()


def menu_from_item(item: Mapping[str, Any] | None) -> list[MenuDrink]:
    """The available drinks of the config table's menu item (plain values, as a boto3 Table returns)."""
    drinks = []
    for entry in (item or {}).get("value") or []:
        if isinstance(entry, Mapping) and entry.get("available") is True and entry.get("drink"):
            options = {
                option
                for group in entry.get("modifiers") or []
                if isinstance(group, Mapping)
                for option in group.get("Options") or []
            }
            drinks.append(MenuDrink(str(entry["drink"]), str(entry.get("icon", "")), frozenset(options)))
    return drinks


@dataclass(frozen=True)
class DayShape:
    """How customers and baristas behave (probabilities per admitted customer)."""

    no_show: float = 0.08
    invalid_first: float = 0.10
    invalid_gives_up: float = 0.4
    barista_forgets: float = 0.05
    cancel: float = 0.10
    unmake: float = 0.10
    wave_sizes: tuple[int, int] = (2, 6)
    peak_excess: tuple[int, int] = (1, 3)
    closed_wave_sizes: tuple[int, int] = (2, 4)
    open_at_close: tuple[int, int] = (2, 4)  # orders still open when the staff end the day
    second_scan: float = 0.05  # of admitted customers, who scan again while their order is still open


@dataclass(frozen=True)
class Customer:
    order_id: str
    user_id: str
    admission: str  # ADMITTED, FULL (capacity) or CLOSED
    invalid_body: Mapping[str, Any] | None = None
    body: Mapping[str, Any] | None = None  # the valid order; None: never orders
    barista_id: str = ""
    barista_actions: tuple[str, ...] = ()
    at_closing: bool = False  # still open when the staff end the day (POST /store/end-of-day)
    second_scan: bool = False  # scans again while this order is open: refused, no token taken

    @property
    def drink(self) -> str | None:
        return self.body["drink"] if self.reaches_barista and self.body else None

    @property
    def reaches_barista(self) -> bool:
        return self.admission == ADMITTED and self.body is not None

    @property
    def expected(self) -> str:
        if self.admission == FULL:
            return REJECTED_CAPACITY
        if self.admission == CLOSED:
            return REJECTED_CLOSED
        if self.at_closing:
            return CLOSED_AT_END
        if self.body is None:
            return CUSTOMER_TIMEOUT
        if self.barista_actions and self.barista_actions[-1] == "complete":
            return COMPLETED
        if self.barista_actions and self.barista_actions[-1] == "cancel":
            return CANCELLED
        return BARISTA_TIMEOUT


@dataclass(frozen=True)
class Wave:
    index: int
    kind: str
    customers: tuple[Customer, ...]


@dataclass(frozen=True)
class DayPlan:
    seed: int
    capacity: int
    waves: tuple[Wave, ...]

    @property
    def customers(self) -> list[Customer]:
        return [customer for wave in self.waves for customer in wave.customers]

    def expected_outcomes(self) -> Counter[str]:
        return Counter(customer.expected for customer in self.customers)

    def expected_sales(self) -> Counter[str]:
        return Counter(customer.drink for customer in self.customers if customer.drink)

    @property
    def second_scans(self) -> int:
        return sum(1 for c in self.customers if c.admission == ADMITTED and c.second_scan)

    @property
    def invalid_attempts(self) -> int:
        return sum(1 for c in self.customers if c.admission == ADMITTED and c.invalid_body is not None)


def _unique_id(rng: random.Random, taken: set[str], prefix: str) -> str:
    while True:
        candidate = f"{prefix}{rng.getrandbits(48):012x}"
        if candidate not in taken:
            taken.add(candidate)
            return candidate


def _invalid_body(rng: random.Random, user_id: str, menu: Sequence[MenuDrink]) -> dict[str, Any]:
    names = {drink.drink for drink in menu}
    if rng.random() < 0.5 and INVALID_DRINK not in names:
        return {"userId": user_id, "drink": INVALID_DRINK, "modifiers": [], "icon": ""}
    drink = rng.choice(menu)
    modifier = next(m for m in UNOFFERED_MODIFIERS if m not in drink.options)
    return {"userId": user_id, "drink": drink.drink, "modifiers": [modifier], "icon": drink.icon}


def _customer(
    rng: random.Random, order_id: str, admission: str, menu: Sequence[MenuDrink], shape: DayShape, rush: bool
) -> Customer:
    user_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    if admission != ADMITTED:
        return Customer(order_id, user_id, admission)
    invalid = None
    orders = rush or rng.random() >= shape.no_show
    if orders and rng.random() < shape.invalid_first:
        invalid = _invalid_body(rng, user_id, menu)
        orders = rush or rng.random() >= shape.invalid_gives_up
    if not orders:
        return Customer(order_id, user_id, admission, invalid_body=invalid)
    choice = rng.choice(menu)
    body = {"userId": user_id, "drink": choice.drink, "modifiers": [], "icon": choice.icon}
    roll = rng.random()
    if roll < shape.barista_forgets:
        actions: tuple[str, ...] = rng.choice([(), ("make",)])
    elif roll < shape.barista_forgets + shape.cancel:
        actions = rng.choice([("make", "cancel"), ("cancel",)])
    elif roll < shape.barista_forgets + shape.cancel + shape.unmake:
        actions = ("make", "unmake", "make", rng.choice(["complete", "cancel"]))
    else:
        actions = ("make", "complete")
    barista = f"barista-{rng.randint(1, 3)}"
    return Customer(order_id, user_id, admission, invalid, body, barista, actions)


def plan_day(
    orders: int,
    *,
    seed: int,
    menu: Sequence[MenuDrink],
    capacity: int,
    close_shop_at: float | None = None,
    id_prefix: str = "",
    shape: DayShape = DayShape(),
    end_of_day: bool = True,
) -> DayPlan:
    """The day's waves. A peak (more than ``capacity`` at once) opens the day and returns every
    ``ORDERS_PER_PEAK`` orders; with ``close_shop_at`` (0..1) one small wave arrives at that point of the
    day while the shop is closed. Customers of a peak who are let in all order (a rush, not a stroll).
    With ``end_of_day`` (a day of at least ``2 * max(shape.open_at_close)`` orders) the last few customers
    are still waiting, or waiting for a barista, when the staff end the day."""
    if orders < 1:
        raise ValueError("a day needs at least one order")
    if not menu:
        raise ValueError("the menu has no available drink")
    if close_shop_at is not None and not 0 <= close_shop_at <= 1:
        raise ValueError(f"close_shop_at must be between 0 and 1, got {close_shop_at}")
    rng = random.Random(seed)
    at_close = 0
    if end_of_day and orders >= 2 * shape.open_at_close[1]:
        at_close = random.Random(f"{seed}:end of day").randint(*shape.open_at_close)
    orders -= at_close
    taken: set[str] = set()
    peak_size = capacity + shape.peak_excess[1]
    peaks_left = (orders // ORDERS_PER_PEAK) + 1 if orders > capacity else 0
    next_peak_at = 0
    close_at = None if close_shop_at is None else int(close_shop_at * orders)
    waves: list[Wave] = []
    placed = 0
    while placed < orders:
        left = orders - placed
        if peaks_left and placed >= next_peak_at and left > capacity:
            size = min(left, capacity + rng.randint(*shape.peak_excess), peak_size)
            kind = PEAK_WAVE
            peaks_left -= 1
            next_peak_at = placed + ORDERS_PER_PEAK
        elif close_at is not None and placed >= close_at:
            size, kind, close_at = min(left, rng.randint(*shape.closed_wave_sizes)), CLOSED_WAVE, None
        else:
            size, kind = min(left, rng.randint(*shape.wave_sizes), capacity), NORMAL_WAVE
            if close_at is not None and placed < close_at:
                size = min(size, close_at - placed) or size
        customers: list[Customer] = []
        for position in range(size):
            if kind == CLOSED_WAVE:
                admission = CLOSED
            elif kind == PEAK_WAVE and position >= capacity:
                admission = FULL
            else:
                admission = ADMITTED
            order_id = _unique_id(rng, taken, id_prefix)
            customer = _customer(rng, order_id, admission, menu, shape, rush=kind == PEAK_WAVE)
            # Drawn apart from the day's other choices, so the rest of a seeded plan stays as it was.
            if admission == ADMITTED and random.Random(f"{seed}:{order_id}").random() < shape.second_scan:
                customer = replace(customer, second_scan=True)
            customers.append(customer)
        waves.append(Wave(len(waves), kind, tuple(customers)))
        placed += size
    if at_close:
        late = [
            _customer(rng, _unique_id(rng, taken, id_prefix), ADMITTED, menu, shape, rush=False)
            for _ in range(at_close)
        ]
        closing = [replace(c, barista_id="", barista_actions=(), at_closing=True) for c in late]
        waves.append(Wave(len(waves), CLOSING_WAVE, tuple(closing)))
    return DayPlan(seed, capacity, tuple(waves))


# --------------------------------------------------------------------------- emulator speed-ups


# --------------------------------------------------------------------------- counting EXPRESS transitions


_express_lock = threading.Lock()
_express_transitions: Counter[str] = Counter()
_express_hook_installed = False


def _count_express_transitions() -> None:
    """Count the states each synchronous (EXPRESS) execution entered, per state machine: AWS does not
    bill them, but the same workflow as STANDARD would pay one transition each."""
    global _express_hook_installed
    with _express_lock:
        if _express_hook_installed:
            return
        _express_hook_installed = True
    from moto.stepfunctions.parser.backend.execution import SyncExecution

    original = SyncExecution.to_start_sync_execution_output

    def to_output(self):
        worker = getattr(self, "exec_worker", None)
        if worker is not None and worker.env is not None:
            history = worker.env.event_manager.get_event_history()
            entered = sum(1 for event in history if str(event.get("type", "")).endswith("StateEntered"))
            with _express_lock:
                _express_transitions[self.state_machine.arn.split(":express:")[0]] += entered
        return original(self)

    SyncExecution.to_start_sync_execution_output = to_output


def express_transitions(state_machine_arn: str) -> int:
    with _express_lock:
        return _express_transitions[state_machine_arn]


# --------------------------------------------------------------------------- running the day


@dataclass
class DayResult:
    plan: DayPlan
    outcomes: dict[str, str] = field(default_factory=dict)  # order id -> observed outcome
    invalid_rejections: int = 0
    second_orders_refused: int = 0
    sales: Counter[str] = field(default_factory=Counter)  # metrics table, this day's increments
    total_sales: int = 0
    dashboard: dict[str, float] = field(default_factory=dict)
    usage: costs.Usage = field(default_factory=costs.Usage)
    order_manager_runs: costs.WorkflowRuns = field(default_factory=lambda: costs.WorkflowRuns(0, 0.0, 0))
    counters: dict[str, Any] = field(default_factory=dict)
    messages: Counter[str] = field(default_factory=Counter)  # what the apps were sent, per topic
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    order_ids: dict[str, str] = field(default_factory=dict)  # the plan's order id -> the scan's
    timeline: list[tuple[int, str, int]] = field(default_factory=list)  # (wave, kind, running orders)
    moments: dict[str, dict[str, float]] = field(default_factory=dict)  # plan's id -> scanned/ordered/served

    def order_of(self, outcome: str) -> str | None:
        """One order that ended this way (the first in the day), to look at."""
        return next((order_id for order_id, ended in self.outcomes.items() if ended == outcome), None)

    @property
    def counts(self) -> Counter[str]:
        return Counter(self.outcomes.values())

    @property
    def ok(self) -> bool:
        return not self.problems


def usage_of(counters: Mapping[str, Any]) -> costs.Usage:
    """The priced quantities in a ``LocalCloud.usage`` snapshot."""
    functions = counters.get("lambda", {}).values()
    sfn = counters.get("stepfunctions", {})
    return costs.Usage(
        lambda_requests=sum(f["requests"] for f in functions),
        lambda_gb_seconds=sum(
            costs.lambda_gb_seconds(f["billed_duration_ms"], f["memory_mb"]) for f in functions
        ),
        eventbridge_events=counters.get("eventbridge", {}).get("events_put", 0),
        sfn_standard_transitions=sfn.get("standard_state_transitions", 0),
        sfn_express_requests=sfn.get("express_requests", 0),
        sfn_express_gb_seconds=sfn.get("express_billed_ms", 0) / 1000 * costs.EXPRESS_MEMORY_STEP_MB / 1024,
        sqs_requests=counters.get("sqs", {}).get("requests", 0),
        dynamodb_write_units=counters.get("dynamodb", {}).get("total_write_units", 0),
        dynamodb_read_units=counters.get("dynamodb", {}).get("total_read_units", 0),
        logs_ingested_gb=counters.get("logs", {}).get("ingested_bytes", 0) / costs.BYTES_PER_GB,
        cloudwatch_put_metric_data=counters.get("cloudwatch", {}).get("put_metric_data_calls", 0),
        apigateway_requests=counters.get("apigateway", {}).get("requests", 0),
        iot_messages=counters.get("iot", {}).get("billed_messages", 0),
    )


def _counter_delta(after: Mapping[str, Any], before: Mapping[str, Any]) -> dict[str, Any]:
    delta: dict[str, Any] = {}
    for key, value in after.items():
        old = before.get(key, 0 if not isinstance(value, Mapping) else {})
        if isinstance(value, Mapping):
            delta[key] = _counter_delta(value, old if isinstance(old, Mapping) else {})
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            delta[key] = value - (old if isinstance(old, (int, float)) else 0)
        else:
            delta[key] = value
    return delta


# The QR code of a simulated day admits every scan of the day (the display would show a new code every
# interval; the day's driver is not a display). Applied to the stack unless its config says otherwise.
DAY_QR_SETTINGS = {"qrTimeIntervalMinutes": 1440, "qrTokensPerBucket": 10000}


def day_qr_settings(config: Mapping[str, Any], repo: Path | None = None) -> dict[str, Any]:
    """The ``DAY_QR_SETTINGS`` that ``config`` does not set, in either spelling (``qrTokensPerBucket`` or
    ``serverlesspresso:qrTokensPerBucket``): what the caller set always wins."""
    from localcloud import materialize, program

    repo = repo or program.REPO_ROOT
    given = materialize.qualified_config(config, repo)
    project = program.project_name(repo)
    return {key: value for key, value in DAY_QR_SETTINGS.items() if f"{project}:{key}" not in given}


SECOND_ORDER_REFUSED = 409
INVALID_CODE = {"error": "Invalid code"}


@dataclass
class ShopApps:
    """The signed-in apps of a day: the display (an admin), the baristas' apps, the customers' phones."""

    display: AppClient
    baristas: dict[str, AppClient]
    phones: dict[str, AppClient]  # each customer's own phone, by the plan's user id

    def phone_of(self, customer: Customer) -> AppClient:
        return self.phones[customer.user_id]

    def barista(self, barista_id: str) -> AppClient:
        return self.baristas[barista_id]


def sign_in_apps(cloud: Any, settings: dict[str, Any], plan: DayPlan) -> ShopApps:
    """Create the day's staff and customer accounts in the stack's pool and sign each app in over HTTP:
    every customer orders from a phone of their own, as at a conference (the config item's
    ``maxOrdersPerUser`` counts per customer)."""
    from localcloud.emulator.cognito import create_user

    pool = cloud.outputs["userPoolId"]

    def account(email: str, groups: tuple[str, ...] = ()) -> AppClient:
        password = secrets.token_urlsafe(12)
        create_user(pool, email, password, groups)
        return AppClient(settings, sign_in(settings, email, password))

    barista_ids = sorted({c.barista_id for c in plan.customers if c.barista_id})
    day = secrets.token_hex(4)  # a second day on the same stack signs up its own accounts
    domain = f"day-{day}.serverlesspresso.local"
    return ShopApps(
        display=account(f"display@{domain}", ("admin",)),
        baristas={b: account(f"{b}@{domain}", ("admin",)) for b in barista_ids},
        phones={c.user_id: account(f"phone-{c.user_id}@{domain}") for c in plan.customers},
    )


def as_run(answer: Any) -> dict[str, Any]:
    """An order-manager API answer in the shape of a run: {status, error, cause}."""
    try:
        body = answer.json()
    except ValueError:
        body = {}
    if answer.status_code == 200:
        return {"status": "SUCCEEDED", "error": None, "cause": None, "output": body}
    return {
        "status": "FAILED",
        "error": body.get("error", f"HTTP {answer.status_code}"),
        "cause": body.get("cause"),
    }


class DayDriver:
    """Drives one ``DayPlan`` through a served ``LocalCloud`` the way the apps do (scans, orders and the
    baristas' actions over the REST APIs with the users' tokens) and observes what happened."""

    def __init__(
        self,
        cloud: Any,
        plan: DayPlan,
        apps: ShopApps,
        *,
        workers: int = 4,
        progress: Callable[[str, int], None] | None = None,
    ) -> None:
        self.cloud = cloud
        self.plan = plan
        self.apps = apps
        self.order_ids: dict[str, str] = {}  # the plan's order id -> the id the customer's scan got
        self.workers = workers
        self.progress = progress or (lambda _what, _n: None)
        self.sfn = cloud.client("stepfunctions")
        self.processor_arn = cloud.outputs["orderProcessorArn"]
        self.manager_arn = cloud.outputs["orderManagerArn"]
        self.timeouts = self._timeouts()
        self.virtual = bool(getattr(cloud.clock, "virtual", False))
        self.problems: list[str] = []
        self.invalid_rejections = 0
        self.second_orders_refused = 0
        self._lock = threading.Lock()
        self._started = time.perf_counter()
        # For the report: the shop's running orders per wave, and when each order was scanned, ordered and
        # served (seconds since the day began; the virtual clock skips the timed waits, so these are the
        # seconds the run took, not a conference's minutes).
        self.timeline: list[tuple[int, str, int]] = []
        self.moments: dict[str, dict[str, float]] = {}

    def _timeouts(self) -> float:
        from localcloud import program

        config = {**program.stack_config(self.cloud.stack), **dict(self.cloud.config)}
        customer = barista = 0.0
        for key, value in config.items():
            if key.endswith("customerTimeoutSeconds"):
                customer = float(value)
            elif key.endswith("baristaTimeoutSeconds"):
                barista = float(value)
        return customer + barista

    # ----------------------------------------------------------------------- helpers

    def _moment(self, customer: Customer, what: str) -> None:
        with self._lock:
            self.moments.setdefault(customer.order_id, {})[what] = time.perf_counter() - self._started

    def _sample_running(self, wave: Wave) -> None:
        with self.cloud.recorder.paused():  # an observation of ours, not a request of the day
            self.timeline.append((wave.index, wave.kind, self.running()))

    def _problem(self, text: str) -> None:
        with self._lock:
            self.problems.append(text)

    def running(self) -> int:
        pages = self.sfn.get_paginator("list_executions").paginate(
            stateMachineArn=self.processor_arn, statusFilter="RUNNING"
        )
        return sum(len(page["executions"]) for page in pages)

    def wait_for_room(self, needed: int, limit: float) -> None:
        """Until ``needed`` more executions fit under the capacity (timeouts free the slots). On a virtual
        clock time moves on to the next timeout each time the shop is still too full."""
        deadline = time.monotonic() + limit
        while self.running() + needed > self.plan.capacity:
            if self.virtual:
                if not self.cloud.until_next_timeout():
                    raise TimeoutError(
                        f"no room for {needed} orders, and no workflow waits on a timeout that could "
                        "free a slot"
                    )
                continue
            if time.monotonic() > deadline:
                raise TimeoutError(f"no room for {needed} orders after {limit:.0f}s")
            time.sleep(0.05)

    def _manage(self, customer: Customer, action: str, body: Mapping[str, Any], app: AppClient) -> dict:
        order_id = self.order_ids[customer.order_id]
        params = {"action": action} if action else None
        return as_run(app.call("PUT", "orders", f"/orders/{order_id}", params=params, json=dict(body)))

    def _set_store_open(self, is_open: bool) -> None:
        state = "open" if is_open else "closed"
        answer = self.apps.display.call("PUT", "config", "/store", params={"state": state})
        if answer.status_code != 200:
            self._problem(f"PUT /store?state={state} answered {answer.status_code}: {answer.text[:200]}")

    def _qr_code(self) -> str:
        answer = self.apps.display.call("GET", "validator", "/qr-code")
        if answer.status_code != 200:
            raise RuntimeError(f"GET /qr-code answered {answer.status_code}: {answer.text[:200]}")
        return answer.json()["bucket"]["last_code"]

    def _quiet(self) -> None:
        """Deliveries done and executions parked; unlike ``LocalCloud.settle`` it does not wait for the
        metrics queue's batching window, which nothing in the journey depends on."""
        from localcloud import emulator

        emulator.settle(timeout=60)

    def _arrive(self, customers: Iterable[Customer]) -> None:
        """Each customer scans the code the display shows (a new one if it changed meanwhile)."""
        code = self._qr_code()
        for customer in customers:
            phone = self.apps.phone_of(customer)
            answer = phone.call("POST", "validator", "/qr-code", params={"token": code})
            if answer.status_code == 400 and answer.json() == INVALID_CODE:
                code = self._qr_code()  # the interval ended: the display shows the next code
                answer = phone.call("POST", "validator", "/qr-code", params={"token": code})
            body = (
                answer.json() if answer.headers.get("Content-Type", "").startswith("application/json") else {}
            )
            if answer.status_code == 200 and "orderId" in body:
                self.order_ids[customer.order_id] = body["orderId"]
                self._moment(customer, "scanned")
                if customer.second_scan:
                    self._scan_again(customer, phone, code)
            else:
                self._problem(f"customer {customer.order_id}: the scan answered {answer.status_code} {body}")

    def _scan_again(self, customer: Customer, phone: AppClient, code: str) -> None:
        """A customer with an order open scans again: refused, and the display's tokens stay as they were."""
        before = self._tokens_left()
        again = phone.call("POST", "validator", "/qr-code", params={"token": code})
        if again.status_code == SECOND_ORDER_REFUSED and before == self._tokens_left():
            with self._lock:
                self.second_orders_refused += 1
        else:
            self._problem(
                f"customer {customer.order_id}: a second scan while the order is open answered "
                f"{again.status_code} {again.text[:200]} (tokens {before} -> {self._tokens_left()})"
            )

    def _tokens_left(self) -> int:
        with self.cloud.recorder.paused():  # the test's look at the display, not a request of the day
            answer = self.apps.display.call("GET", "validator", "/qr-code")
        return int(answer.json()["bucket"]["availableTokens"])

    # ----------------------------------------------------------------------- journeys

    def customer_step(self, customer: Customer) -> None:
        if customer.order_id not in self.order_ids:
            return
        phone = self.apps.phone_of(customer)
        if customer.invalid_body is not None:
            answer = self._manage(customer, "", customer.invalid_body, phone)
            if answer["status"] == "FAILED" and answer["error"] == "InvalidOrder":
                with self._lock:
                    self.invalid_rejections += 1
            else:
                self._problem(
                    f"order {customer.order_id}: an invalid drink was not refused with InvalidOrder "
                    f"({answer['status']} {answer['error']})"
                )
        if customer.body is not None:
            answer = self._manage(customer, "", customer.body, phone)
            if answer["status"] == "SUCCEEDED":
                self._moment(customer, "ordered")
            else:
                self._problem(
                    f"order {customer.order_id}: the customer's {customer.body['drink']} was refused "
                    f"({answer['error']}: {answer['cause']})"
                )

    def barista_step(self, customer: Customer) -> None:
        if customer.order_id not in self.order_ids:
            return
        for action in customer.barista_actions:
            answer = self._manage(customer, action, {}, self.apps.barista(customer.barista_id))
            if answer["status"] != "SUCCEEDED":
                self._problem(
                    f"order {customer.order_id}: barista '{action}' failed "
                    f"({answer['error']}: {answer['cause']})"
                )
                return
        if customer.barista_actions and customer.barista_actions[-1] == "complete":
            self._moment(customer, "served")

    # ----------------------------------------------------------------------- the day

    def run(self) -> None:
        room_limit = self.timeouts + 60
        self._set_store_open(True)  # the morning: the staff open the shop (the day before may have ended it)
        with ThreadPoolExecutor(self.workers, thread_name_prefix="customer") as pool:
            for wave in self.plan.waves:
                admitted = [c for c in wave.customers if c.admission == ADMITTED]
                if wave.kind == PEAK_WAVE:
                    self.wait_for_room(self.plan.capacity, room_limit)  # an empty shop
                    self._arrive(admitted)
                    self._quiet()
                    self._arrive(c for c in wave.customers if c.admission == FULL)
                elif wave.kind == CLOSING_WAVE:
                    self._let_parked_orders_end()
                    self.wait_for_room(len(admitted), room_limit)
                    self._arrive(admitted)
                    self._quiet()
                    list(pool.map(self.customer_step, admitted))
                    self._quiet()
                    self._sample_running(wave)
                    self.progress("arrived", 0)
                    self._end_the_day(len(admitted))
                    self.progress("served", len(admitted))
                    continue
                elif wave.kind == CLOSED_WAVE:
                    self._set_store_open(False)
                    self._arrive(wave.customers)
                    self._quiet()
                    self._set_store_open(True)
                else:
                    self.wait_for_room(len(admitted), room_limit)
                    self._arrive(admitted)
                self._quiet()
                self._sample_running(wave)
                self.progress("arrived", len(wave.customers) - len(admitted))
                list(pool.map(self.customer_step, admitted))
                self._quiet()
                list(pool.map(self.barista_step, admitted))
                self.progress("served", len(admitted))
        if not any(wave.kind == CLOSING_WAVE for wave in self.plan.waves):
            self._let_parked_orders_end()
        self.cloud.settle(timeout=120)

    def _let_parked_orders_end(self) -> None:
        """The orders left waiting time out as planned, each at its own moment."""
        if self.virtual:
            self.cloud.advance(self.timeouts)
        else:
            deadline = time.monotonic() + self.timeouts + 60
            while self.running() and time.monotonic() < deadline:
                time.sleep(0.1)
        self.cloud.settle(timeout=120)

    def _end_the_day(self, open_orders: int) -> None:
        """The staff end the day: the shop closes and the orders still open are cancelled."""
        answer = self.apps.display.call("POST", "config", "/store/end-of-day")
        if answer.status_code != 200 or answer.json().get("cancelled") != open_orders:
            self._problem(f"the end of the day answered {answer.status_code} {answer.text[:200]}")
        self.cloud.settle(timeout=120)


def _processor_executions(sfn: Any, processor_arn: str, since: datetime) -> list[dict[str, Any]]:
    found = []
    for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=processor_arn):
        found.extend(e for e in page["executions"] if e["startDate"] >= since)
    return found


def _aggregates(cloud: Any) -> Counter[str]:
    """Sum of every ``Aggregate`` item of the metrics table per drink (``TotalSales`` included), all days."""
    table = cloud.table("metrics-table")
    totals: Counter[str] = Counter()
    kwargs: dict[str, Any] = {
        "KeyConditionExpression": "PK = :pk",
        "ExpressionAttributeValues": {":pk": "Aggregate"},
    }
    while True:
        page = table.query(**kwargs)
        for item in page["Items"]:
            totals[item["SK"].split("#", 1)[1]] += int(item.get("val", 0))
        if "LastEvaluatedKey" not in page:
            return totals
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _dashboard_sums(cloud: Any, since: datetime) -> dict[str, float]:
    """The dashboard's metrics summed over the day, read back the way the dashboard reads them."""
    name = cloud.outputs.get("dashboardName")
    if not name:
        return {}
    cloudwatch = cloud.client("cloudwatch")
    body = json.loads(cloudwatch.get_dashboard(DashboardName=name)["DashboardBody"])
    sums: dict[str, float] = {}
    end = datetime.now(UTC) + timedelta(minutes=5)
    for widget in body.get("widgets", []):
        for metric in widget.get("properties", {}).get("metrics", []):
            namespace, metric_name, dimension, value = metric[:4]
            points = cloudwatch.get_metric_statistics(
                Namespace=namespace,
                MetricName=metric_name,
                Dimensions=[{"Name": dimension, "Value": value}],
                StartTime=since - timedelta(minutes=1),
                EndTime=end,
                Period=60,
                Statistics=["Sum"],
            )["Datapoints"]
            sums[value] = sum(point["Sum"] for point in points)
    return sums


def _dead_letters(cloud: Any) -> dict[str, int]:
    """Messages in each dead-letter queue of the stack (the queues the program names ``...-dlq``; their
    physical names end in Pulumi's random suffix, so the name alone does not tell)."""
    sqs = cloud.client("sqs")
    waiting = {}
    for queue in cloud.state.of_type("aws:sqs/queue:Queue"):
        if not queue.name.endswith("-dlq"):
            continue
        name, url = queue.state["name"], queue.state["url"]
        attributes = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        waiting[name] = sum(int(value) for value in attributes.values())
    return waiting


def _failure_of(run: Mapping[str, Any], visited: Sequence[str]) -> str:
    """For a run that did not succeed: its error and cause, and the state it failed in (the last of the
    states it ``visited``)."""
    if run["status"] == "SUCCEEDED":
        return ""
    return (
        f" with {run.get('error')!r}: {str(run.get('cause'))[:300]!r}"
        f" in state {visited[-1] if visited else None!r}"
    )


def _observe_outcome(item: Mapping[str, Any] | None, status: str, visited: Sequence[str]) -> str | None:
    if status != "SUCCEEDED":
        return None
    if item is None:
        if "Emit - Shop not ready" not in visited:
            return None
        return REJECTED_CAPACITY if "Is capacity available?" in visited else REJECTED_CLOSED
    state, reason = item.get("ORDERSTATE"), item.get("reason")
    if state == "COMPLETED" and not reason:
        return COMPLETED
    if state == "CANCELLED":
        return {
            None: CANCELLED,
            "Customer timedout": CUSTOMER_TIMEOUT,
            "Barista timedout": BARISTA_TIMEOUT,
            "Shop closed": CLOSED_AT_END,
        }.get(reason)
    return None


def run_day(
    cloud: Any,
    plan: DayPlan,
    *,
    workers: int = 4,
    progress: Callable[[str, int], None] | None = None,
) -> DayResult:
    """Serve ``cloud``'s front door, drive ``plan`` through it the way the apps do, then observe every
    order and check the day's invariants."""
    from localcloud.serve import serving, settings_document

    needed = day_qr_settings(cloud.config, cloud.repo)
    if needed:  # `simulate` deploys with them already; a caller with its own cloud pays a second deploy
        with cloud.recorder.paused():
            cloud.deploy(needed)
    with serving() as front:
        settings = settings_document(cloud.outputs, front, {})
        with cloud.recorder.paused():
            apps = sign_in_apps(cloud, settings, plan)
        return _run_day(cloud, plan, apps, workers=workers, progress=progress)


def topic_group(topic: str) -> str:
    """Customers' own topics are counted together."""
    return "serverlesspresso-user-*" if topic.startswith("serverlesspresso-user-") else topic


def _run_day(
    cloud: Any,
    plan: DayPlan,
    apps: ShopApps,
    *,
    workers: int,
    progress: Callable[[str, int], None] | None,
) -> DayResult:
    _count_express_transitions()
    started_at = datetime.now(UTC) - timedelta(seconds=1)
    clock = time.perf_counter()
    with cloud.recorder.paused():
        sales_before = _aggregates(cloud)
        usage_before = cloud.usage
    published_before = len(cloud.published())
    express_before = express_transitions(cloud.outputs["orderManagerArn"])
    driver = DayDriver(cloud, plan, apps, workers=workers, progress=progress)
    result = DayResult(plan)
    try:
        driver.run()
    except TimeoutError as stuck:
        driver.problems.append(f"the day did not finish: {stuck}")
    with cloud.recorder.paused():
        usage_after = cloud.usage
        result.counters = _counter_delta(usage_after, usage_before)
        result.usage = usage_of(usage_after) - usage_of(usage_before)
        om_express_requests = result.counters["api_calls"].get("sfn", {}).get("StartSyncExecution", 0)
        result.order_manager_runs = costs.WorkflowRuns(
            requests=om_express_requests,
            express_gb_seconds=result.usage.sfn_express_gb_seconds,
            state_transitions=express_transitions(cloud.outputs["orderManagerArn"]) - express_before,
        )
        result.messages = Counter(topic_group(m.topic) for m in cloud.published()[published_before:])
        result.invalid_rejections = driver.invalid_rejections
        result.second_orders_refused = driver.second_orders_refused
        result.problems = list(driver.problems)
        result.order_ids = dict(driver.order_ids)
        result.timeline = list(driver.timeline)
        result.moments = {order_id: dict(moments) for order_id, moments in driver.moments.items()}
        _observe(cloud, driver, plan, result, started_at, sales_before)
    result.seconds = time.perf_counter() - clock
    return result


def _observe(
    cloud: Any, driver: DayDriver, plan: DayPlan, result: DayResult, since: datetime, sales_before: Counter
) -> None:
    problems = result.problems
    sfn = driver.sfn
    wanted = {driver.order_ids[c.order_id]: c for c in plan.customers if c.order_id in driver.order_ids}
    executions: dict[str, list[dict[str, Any]]] = {}
    for execution in _processor_executions(sfn, driver.processor_arn, since):
        described = sfn.describe_execution(executionArn=execution["executionArn"])
        order_id = str(json.loads(described["input"]).get("detail", {}).get("orderId"))
        if order_id in wanted:
            executions.setdefault(order_id, []).append(described)
    orders = cloud.table("shop-data-orders")
    for order_id, customer in wanted.items():
        runs = executions.get(order_id, [])
        if len(runs) != 1:
            problems.append(f"order {order_id}: {len(runs)} OrderProcessor executions instead of exactly one")
            continue
        run = runs[0]
        if run["status"] == "RUNNING":
            problems.append(f"order {order_id}: still parked (its OrderProcessor execution is RUNNING)")
            continue
        item = orders.get_item(Key={"PK": "orders", "SK": order_id}, ConsistentRead=True).get("Item")
        visited: list[str] = []
        # Only a rejection needs the path (a full shop or a closed one), and a failure its last state.
        if item is None or run["status"] != "SUCCEEDED":
            history = sfn.get_execution_history(executionArn=run["executionArn"], maxResults=1000)["events"]
            visited = [
                e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e
            ]
        outcome = _observe_outcome(item, run["status"], visited)
        if outcome is None:
            problems.append(
                f"order {order_id}: no single terminal state (execution {run['status']}"
                f"{_failure_of(run, visited)}, order {item.get('ORDERSTATE') if item else 'absent'}, "
                f"reason {(item or {}).get('reason')})"
            )
            continue
        result.outcomes[order_id] = outcome
        if outcome != customer.expected:
            problems.append(f"order {order_id}: ended {outcome}, the plan says {customer.expected}")
    if driver.running():
        problems.append(f"{driver.running()} OrderProcessor executions still RUNNING after the timeouts")

    sales_after = _aggregates(cloud)
    result.sales = Counter({k: sales_after[k] - sales_before[k] for k in sales_after if k != "TotalSales"})
    result.sales = +result.sales
    result.total_sales = sales_after["TotalSales"] - sales_before["TotalSales"]
    reached_barista = sum(1 for c in plan.customers if c.reaches_barista)
    if result.total_sales != reached_barista:
        problems.append(
            f"metrics: TotalSales grew by {result.total_sales}, "
            f"but {reached_barista} orders reached the barista"
        )
    expected_sales = plan.expected_sales()
    if result.sales != expected_sales:
        problems.append(
            f"metrics: per-drink sales {dict(result.sales)} differ from the plan's {dict(expected_sales)}"
        )
    try:
        result.dashboard = _dashboard_sums(cloud, since)
    except Exception as error:  # the emulator's CloudWatch is not part of the day's invariants
        result.notes.append(f"dashboard numbers unavailable: {type(error).__name__}: {error}")
    for name, count in _dead_letters(cloud).items():
        if count:
            problems.append(f"dead-letter queue {name} holds {count} message(s)")


# --------------------------------------------------------------------------- the `simulate` command


MAX_ORDERS = 100_000
MAX_WORKERS = 64


def add_arguments(parser: Any) -> None:
    """Every option is checked as it is parsed, so a bad value stops the command before any deploy."""
    from localcloud.stack_options import fraction, stack_argument, whole_number

    stack_argument(parser)
    parser.add_argument(
        "--orders",
        type=whole_number(1, MAX_ORDERS),
        default=50,
        help="customers who scan the QR code (default 50)",
    )
    parser.add_argument("--seed", type=int, default=1, help="same seed, same day (default 1)")
    parser.add_argument(
        "--close-shop-at",
        type=fraction,
        default=None,
        metavar="FRACTION",
        help="close the shop for one wave at this point of the day (0..1), then reopen",
    )
    parser.add_argument(
        "--workers",
        type=whole_number(1, MAX_WORKERS),
        default=4,
        help=f"threads driving customers and baristas (1..{MAX_WORKERS})",
    )
    # The month the day is scaled to (localcloud.bill.Profile); its other assumptions live there.
    parser.add_argument(
        "--month-days",
        type=whole_number(1, 31),
        default=4,
        help="event days in the month's bill (1..31, default 4)",
    )
    parser.add_argument(
        "--month-orders",
        type=whole_number(1, MAX_ORDERS),
        default=1000,
        help="customers who scan the QR code on each event day of the month (default 1000)",
    )
    parser.add_argument(
        "--month-hours",
        type=whole_number(1, 24),
        default=8,
        help="opening hours of each event day (1..24, default 8)",
    )
    parser.add_argument(
        "--report",
        type=Path,
        metavar="FILE.html",
        help="write the day as one self-contained HTML page of charts and two orders' journeys",
    )
    parser.add_argument(
        "--details", action="store_true", help="print every table (sales, topics, dashboard, costs, month)"
    )


def command(args: Any, console: Any) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from localcloud import bill
    from localcloud.cloud import LocalCloud
    from localcloud.emulator.clock import VirtualClock
    from localcloud.stack_options import checked_config

    overrides = checked_config(args.config, args.stack)
    overrides = {**day_qr_settings(overrides), **overrides}  # deployed once, with the day's QR code
    # Virtual time: the day's timeouts fire when the driver lets time pass, so a slow machine sees the
    # same day as a fast one, and waiting out a timeout costs no real time.
    with LocalCloud.running(args.stack, overrides, clock=VirtualClock()) as cloud:
        menu_item = cloud.table("shop-data-config").get_item(Key={"PK": "menu"}).get("Item")
        capacity = _capacity(cloud)
        plan = plan_day(
            args.orders,
            seed=args.seed,
            menu=menu_from_item(menu_item),
            capacity=capacity,
            close_shop_at=args.close_shop_at,
        )
        console.print(
            f"A conference day on stack [bold]{args.stack}[/]: {args.orders} customers in {len(plan.waves)} "
            f"waves, capacity {capacity}, seed {args.seed}"
        )
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=not console.is_terminal) as bar:
            task = bar.add_task("customers", total=args.orders)
            result = run_day(
                cloud, plan, workers=args.workers, progress=lambda _what, n: bar.advance(task, n)
            )
            bar.update(task, completed=args.orders)
        with cloud.recorder.paused():
            journeys = orders_to_look_at(cloud, result)
    # The month's fixed charges come from what the program declares with the config the day ran on: the
    # deploy's own evaluation of it.
    declared = cloud.program_run
    profile = bill.Profile.of_options(args.month_days, args.month_orders, args.month_hours)
    months = bill.months(bill.SimulatedDay.of(result), declared, bill.MonthPrices.load(), profile)
    if args.details:
        render(console, result, months=months)
    else:
        render_summary(console, result, months)
    for heading, order_id, _ in journeys:
        console.print(f"{heading}: order {order_id}")
    if args.report:
        from localcloud import report

        report.write(args.report, result, months, journeys)
        console.print(f"The day as charts: {args.report}")
    return 0 if result.ok else 1


LOOK_AT = (("A completed order", COMPLETED), ("An order whose customer timed out", CUSTOMER_TIMEOUT))


def orders_to_look_at(cloud: Any, result: DayResult) -> list[tuple[str, str, list[Any]]]:
    """One completed and one timed-out order with their journeys (from the all-events log)."""
    from localcloud import journey

    events = journey.log_events(cloud.client("logs"), cloud.outputs["allEventsLogGroup"])
    return [
        (heading, order_id, journey.steps(events, order_id))
        for heading, outcome in LOOK_AT
        if (order_id := result.order_of(outcome)) is not None
    ]


def render_summary(console: Any, result: DayResult, months: tuple[Any, Any]) -> None:
    """What fits a screen: outcomes against the plan, the invariants, the cost per 1000 orders and the
    month, each beside the workshop's design (`--details` prints every table)."""
    from rich.table import Table

    plan = result.plan
    counts, expected = result.counts, plan.expected_outcomes()
    outcomes = Table(title=f"The day: {len(plan.customers)} customers in {result.seconds:.1f} s")
    for column in ("Outcome", "Orders", "Planned"):
        outcomes.add_column(column, justify="left" if column == "Outcome" else "right")
    for outcome in OUTCOMES:
        outcomes.add_row(outcome, str(counts[outcome]), str(expected[outcome]))
    outcomes.add_row("invalid drinks refused", str(result.invalid_rejections), str(plan.invalid_attempts))
    outcomes.add_row("second orders refused", str(result.second_orders_refused), str(plan.second_scans))
    console.print(outcomes)
    completed = counts[COMPLETED]
    prices = costs.PriceList.load()
    ours = costs.price(result.usage, prices).total_usd
    workshop = costs.price(costs.as_standard(result.usage, result.order_manager_runs), prices).total_usd
    if completed:
        console.print(
            f"Cost per 1000 completed orders: {ours * 1000 / completed:.4f} USD "
            f"(the workshop's design: {workshop * 1000 / completed:.4f} USD)"
        )
    mine, theirs = months
    console.print(
        f"The month ({mine.profile.describe()}): {mine.total_usd:.2f} USD "
        f"(the workshop's: {theirs.total_usd:.2f} USD)"
    )
    if result.ok:
        console.print(
            f"[bold green]All invariants hold.[/] Sales counted: {result.total_sales}; no dead letter."
        )
    else:
        console.print(f"[bold red]{len(result.problems)} invariant(s) broken:")
        for problem in result.problems:
            console.print(f"[red]  - {problem}")
    console.print("[dim]--details prints every table; --report FILE.html draws the day.")


def _capacity(cloud: Any) -> int:
    from localcloud import program

    config = {**program.stack_config(cloud.stack), **dict(cloud.config)}
    return int(next((v for k, v in config.items() if k.endswith(":capacity") or k == "capacity"), 20))


def render(
    console: Any,
    result: DayResult,
    prices: costs.PriceList | None = None,
    months: tuple[Any, Any] | None = None,
) -> None:
    """The day's tables; ``months`` (this architecture's and the workshop's `bill.Month`) adds the
    monthly bill after the day's cost table."""
    from rich.table import Table

    plan = result.plan
    counts, expected = result.counts, plan.expected_outcomes()
    summary = Table(title=f"The day: {len(plan.customers)} customers in {result.seconds:.1f} s")
    summary.add_column("Outcome")
    summary.add_column("Orders", justify="right")
    summary.add_column("Planned", justify="right")
    for outcome in OUTCOMES:
        summary.add_row(outcome, str(counts[outcome]), str(expected[outcome]))
    summary.add_row("invalid drinks refused", str(result.invalid_rejections), str(plan.invalid_attempts))
    summary.add_row("second orders refused", str(result.second_orders_refused), str(plan.second_scans))
    console.print(summary)

    sales = Table(title="Metrics table (this day's increments)")
    sales.add_column("Drink")
    sales.add_column("Sold", justify="right")
    for drink, sold in sorted(result.sales.items()):
        sales.add_row(drink, str(sold))
    sales.add_row("[bold]TotalSales", f"[bold]{result.total_sales}")
    console.print(sales)

    sent = Table(title="What the apps were sent (IoT messages per topic)")
    sent.add_column("Topic")
    sent.add_column("Messages", justify="right")
    for topic, count in sorted(result.messages.items()):
        sent.add_row(topic, str(count))
    console.print(sent)

    dashboard = Table(title="Dashboard (CloudWatch sums)")
    dashboard.add_column("Metric")
    dashboard.add_column("Sum", justify="right")
    for name, total in result.dashboard.items():
        dashboard.add_row(name, f"{total:g}")
    console.print(dashboard)
    for note in result.notes:
        console.print(f"[yellow]{note}")

    render_costs(console, result, prices or costs.PriceList.load(), months)

    if result.ok:
        console.print("[bold green]All invariants hold.")
    else:
        console.print(f"[bold red]{len(result.problems)} invariant(s) broken:")
        for problem in result.problems:
            console.print(f"[red]  - {problem}")


def render_costs(
    console: Any, result: DayResult, prices: costs.PriceList, months: tuple[Any, Any] | None = None
) -> None:
    from rich.table import Table

    completed = result.counts[COMPLETED]
    report = costs.price(result.usage, prices)
    table = Table(title=f"Modelled cost (list prices {prices.region}, {prices.as_of})")
    for column, justify in (
        ("Service", "left"),
        ("Billable", "left"),
        ("Quantity", "right"),
        ("USD this day", "right"),
        ("USD / 1000 completed", "right"),
    ):
        table.add_column(column, justify=justify)
    per_thousand = 1000 / completed if completed else 0.0
    for line in report.lines:
        table.add_row(
            line.service,
            line.unit,
            f"{line.quantity:,.6g}",
            f"{line.usd:.6f}",
            f"{line.usd * per_thousand:.4f}" if completed else "-",
        )
    standard = costs.price(costs.as_standard(result.usage, result.order_manager_runs), prices)
    table.add_section()
    table.add_row(
        "[bold]This architecture",
        "OrderManager EXPRESS",
        "",
        f"{report.total_usd:.6f}",
        f"[bold]{report.total_usd * per_thousand:.4f}" if completed else "-",
    )
    table.add_row(
        "[bold]Workshop architecture",
        f"OrderManager STANDARD ({result.order_manager_runs.state_transitions} transitions)",
        "",
        f"{standard.total_usd:.6f}",
        f"[bold]{standard.total_usd * per_thousand:.4f}" if completed else "-",
    )
    console.print(table)
    if months is not None:
        from localcloud import bill

        bill.render_month(console, *months)
    console.print(f"[dim]Prices: {prices.source}")
    console.print(f"[yellow]{prices.caveat}")
