"""The monthly bill: what the stack's resources cost per month, plus the simulated day scaled to a month.

A pop-up shop that trades a few days a month pays mostly for what exists all month (alarms, a dashboard,
a key). The per-order view of `localcloud.costs` hides that, so this module adds up a month:

- **fixed charges**, read from what the program declares for the stack (a `ProgramRun` under mocks, or
  its registrations). Every resource type is classified: `FIXED_CHARGES` maps each type AWS charges per
  month to its price keys and how to measure it, and `NO_FIXED_CHARGE` lists every other type with the
  reason. A type in neither is refused (`Unclassified`), so a new resource type must be classified
  before a bill is printed. An option that would add a charge the price list does not hold (an API
  cache, detailed API metrics) is refused too (`NotPriced`) rather than left out;
- **usage charges**: the day's `costs.Usage` per customer who scanned the QR code that day, times the
  scans of the profile's month, plus what the day's counters do not hold: Cognito monthly active users,
  IoT connection-minutes and stored logs (from each log group's retention). The `Profile` holds every
  assumption behind those;
- **the workshop's month** on the same profile: the same usage with a STANDARD OrderManager
  (`costs.as_standard`) and the workshop's own fixed-charge resources, kept as data in `workshop.json`.

Free tiers are ignored, as in `costs`. Prices come from `prices.json`: `prices` for the day's usage,
`month_prices` for the rest; both must be checked before anyone quotes the figures.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

from localcloud import costs

WORKSHOP_FILE = Path(__file__).with_name("workshop.json")

# AWS prices per-month charges on a month of 730 hours and prorates them by the hour.
HOURS_PER_MONTH = 730
DAYS_PER_MONTH = HOURS_PER_MONTH / 24
FIXED, USAGE = "fixed", "usage"

ALARM = "cloudwatch_alarm_metric_months"
HIGH_RESOLUTION_ALARM = "cloudwatch_high_resolution_alarm_metric_months"
DASHBOARD = "cloudwatch_dashboard_months"
CUSTOM_METRIC = "cloudwatch_custom_metric_months"
LOG_STORAGE = "logs_stored_gb_months"
KMS_KEY = "kms_key_months"
SECRET = "secretsmanager_secret_months"
READ_UNIT_HOURS = "dynamodb_provisioned_read_unit_hours"
WRITE_UNIT_HOURS = "dynamodb_provisioned_write_unit_hours"
MONTHLY_ACTIVE_USERS = "cognito_monthly_active_users"  # Essentials, a new user pool's tier
LITE_MONTHLY_ACTIVE_USERS = "cognito_lite_monthly_active_users"
# What a user pool's monthly active users cost, by its `userPoolTier` (a pool that sets none is Essentials).
MONTHLY_ACTIVE_USERS_BY_TIER = {"ESSENTIALS": MONTHLY_ACTIVE_USERS, "LITE": LITE_MONTHLY_ACTIVE_USERS}
CONNECTION_MINUTES = "iot_connection_minutes"
MONTH_PRICE_KEYS = (
    ALARM,
    HIGH_RESOLUTION_ALARM,
    DASHBOARD,
    CUSTOM_METRIC,
    LOG_STORAGE,
    KMS_KEY,
    SECRET,
    READ_UNIT_HOURS,
    WRITE_UNIT_HOURS,
    MONTHLY_ACTIVE_USERS,
    LITE_MONTHLY_ACTIVE_USERS,
    CONNECTION_MINUTES,
)
# The usage keys this module prices on top of the day's `costs.Usage`.
MONTH_USAGE_KEYS = (MONTHLY_ACTIVE_USERS, LITE_MONTHLY_ACTIVE_USERS, CONNECTION_MINUTES, LOG_STORAGE)
# AWS rotates a key's material yearly unless the key says otherwise; each of the first two rotations
# adds one key-month to the key's monthly charge.
DEFAULT_ROTATION_DAYS = 365
BILLED_ROTATIONS = 2


class Unclassified(ValueError):
    """A resource type that is neither priced as fixed nor listed as having no fixed charge."""


class NotPriced(ValueError):
    """A resource option that adds a monthly charge the price list does not hold."""


# --------------------------------------------------------------------------- the profile


@dataclass(frozen=True)
class Profile:
    """A month of trading. The simulated day is scaled to it per customer who scanned the QR code; the
    other fields are the assumptions behind the charges a day cannot count, stated so they can change."""

    name: str = "pop-up"
    event_days: int = 4
    # Customers who scan the QR code on an event day, counted as `simulate --orders` counts them.
    orders_per_day: int = 1000
    # Hours the shop is open on an event day: the staff apps are connected and drink metrics are sent.
    opening_hours: int = 8
    # Staff apps, each signed in with its own account: the display and three baristas, as on the
    # simulated day.
    staff: int = 4
    # Minutes a customer's phone stays connected to IoT, from the scan until the order ends.
    phone_minutes_per_order: float = 10.0
    # Orders one customer account places in the month; 1 (every order a new account) gives the most
    # monthly active users.
    orders_per_customer: float = 1.0
    # The month of the stack's life that is billed: logs that never expire have piled up this long, and
    # key rotations done by then count.
    months_in_service: int = 12

    def __post_init__(self) -> None:
        problems = []
        if not 1 <= self.event_days <= 31:
            problems.append(f"event_days must be from 1 to 31, got {self.event_days}")
        if self.orders_per_day < 1:
            problems.append(f"orders_per_day must be at least 1, got {self.orders_per_day}")
        if not 1 <= self.opening_hours <= 24:
            problems.append(f"opening_hours must be from 1 to 24, got {self.opening_hours}")
        if self.staff < 0:
            problems.append(f"staff must not be negative, got {self.staff}")
        if not self.phone_minutes_per_order >= 0:
            problems.append(
                f"phone_minutes_per_order must not be negative, got {self.phone_minutes_per_order}"
            )
        if not self.orders_per_customer >= 1:
            problems.append(f"orders_per_customer must be at least 1, got {self.orders_per_customer}")
        if self.months_in_service < 1:
            problems.append(f"months_in_service must be at least 1, got {self.months_in_service}")
        if problems:
            raise ValueError(f"profile {self.name!r}: " + "; ".join(problems))

    @classmethod
    def of_options(cls, event_days: int, orders_per_day: int, opening_hours: int) -> Profile:
        """The profile `simulate --month-days/--month-orders/--month-hours` asks for; named after the
        default when it is the default."""
        default = cls()
        chosen = replace(
            default, event_days=event_days, orders_per_day=orders_per_day, opening_hours=opening_hours
        )
        return chosen if chosen == default else replace(chosen, name="custom")

    @property
    def orders(self) -> int:
        """Customers who scan the QR code in the month."""
        return self.event_days * self.orders_per_day

    @property
    def event_hours(self) -> int:
        return self.event_days * self.opening_hours

    @property
    def metered_share(self) -> float:
        """The share of the month in which metrics are sent (custom metrics are metered only then)."""
        return min(1.0, self.event_hours / HOURS_PER_MONTH)

    def describe(self) -> str:
        return (
            f"{self.name}: {self.event_days} event day(s) of {self.orders_per_day} orders, "
            f"open {self.opening_hours} h, month {self.months_in_service} in service"
        )


DEFAULT_PROFILE = Profile()


# --------------------------------------------------------------------------- prices


@dataclass(frozen=True)
class MonthPrices:
    """The dated price file in full: the day's usage prices (`costs.PriceList`) and the month's."""

    usage: costs.PriceList
    month: Mapping[str, costs.Price]
    sources: Mapping[str, str]  # price key -> pricing page, for every entry of both sections

    @classmethod
    def load(cls, path: Path = costs.PRICE_FILE) -> MonthPrices:
        return cls.from_dict(json.loads(Path(path).read_text()), origin=str(path))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], origin: str = "price list") -> MonthPrices:
        usage = costs.PriceList.from_dict(data, origin)
        entries = data.get("month_prices") or {}
        missing = sorted(set(MONTH_PRICE_KEYS) - set(entries))
        unknown = sorted(set(entries) - set(MONTH_PRICE_KEYS))
        if missing or unknown:
            raise ValueError(f"{origin}: month prices missing for {missing}, unknown month prices {unknown}")
        sources = {}
        for key, entry in {**data["prices"], **entries}.items():
            for required in ("unit", "source"):
                if not entry.get(required):
                    raise ValueError(
                        f"{origin}: {key} needs a '{required}' (what is counted, and where from)"
                    )
            sources[key] = entry["source"]
        month = {}
        for key, entry in entries.items():
            usd, per = float(entry["usd"]), float(entry["per"])
            if usd < 0 or per <= 0:
                raise ValueError(f"{origin}: {key} needs usd >= 0 and per > 0, got {usd} per {per}")
            month[key] = costs.Price(key, entry["service"], usd, per, entry["unit"])
        return cls(usage, month, sources)

    def __getitem__(self, key: str) -> costs.Price:
        return self.month[key] if key in self.month else self.usage.prices[key]


# --------------------------------------------------------------------------- the bill


@dataclass(frozen=True)
class Charge:
    """One line of the bill: what is charged, how much of it, and its USD for the month."""

    kind: str  # FIXED or USAGE
    key: str  # the price key
    what: str
    quantity: float
    unit: str
    usd: float


def _charge(kind: str, key: str, what: str, quantity: float, prices: MonthPrices) -> Charge:
    price = prices[key]
    return Charge(kind, key, what, quantity, price.unit, price.cost(quantity))


@dataclass(frozen=True)
class Month:
    """A month of one design on one profile, fixed and usage charges apart, with its assumptions."""

    title: str
    profile: Profile
    fixed: tuple[Charge, ...]
    usage: tuple[Charge, ...]
    notes: tuple[str, ...] = ()

    @property
    def fixed_usd(self) -> float:
        return sum(charge.usd for charge in self.fixed)

    @property
    def usage_usd(self) -> float:
        return sum(charge.usd for charge in self.usage)

    @property
    def total_usd(self) -> float:
        return self.fixed_usd + self.usage_usd

    def quantity(self, key: str) -> float:
        """How much of one price key the month bills, over all its lines."""
        return sum(charge.quantity for charge in (*self.fixed, *self.usage) if charge.key == key)


# --------------------------------------------------------------------------- fixed charges


class Resource(Protocol):
    """One declared resource: a `program.Registration` (or a materialised `Deployed`)."""

    @property
    def type(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def inputs(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class Measured:
    """What one resource adds to a fixed charge. Custom metrics carry their identity instead of a
    quantity: two resources publishing the same metric pay for it once."""

    key: str
    what: str
    quantity: float = 0.0
    metric: tuple[str, str, tuple[tuple[str, str], ...]] | None = None  # namespace, name, dimensions


@dataclass(frozen=True)
class Declared:
    """The program's resources and the profile, as a rule sees them."""

    resources: tuple[Resource, ...]
    profile: Profile

    def menu_drinks(self) -> tuple[str, ...]:
        """The available drinks of the menu the program seeds (the config table's ``PK=menu`` item)."""
        drinks: list[str] = []
        for resource in self.resources:
            if resource.type != "aws:dynamodb/tableItem:TableItem":
                continue
            item = json.loads(resource.inputs.get("item") or "{}")
            if (item.get("PK") or {}).get("S") != "menu":
                continue
            for entry in (item.get("value") or {}).get("L") or []:
                drink = entry.get("M") or {}
                name = (drink.get("drink") or {}).get("S")
                if name and (drink.get("available") or {}).get("BOOL") and name not in drinks:
                    drinks.append(name)
        return tuple(drinks)


@dataclass(frozen=True)
class FixedRule:
    """How a resource type with a fixed charge is measured, and which prices it may use."""

    keys: tuple[str, ...]  # the price keys the rule may charge
    measure: Callable[[Resource, Declared], list[Measured]]


CUSTOM_METRICS = "CloudWatch custom metrics"


def _alarm(alarm: Resource, _: Declared) -> list[Measured]:
    """One alarm metric per metric the alarm watches (a metric-math alarm pays for each metric in it);
    a period under 60 s makes the alarm high resolution."""
    queries = alarm.inputs.get("metricQueries") or []
    if any("ANOMALY_DETECTION_BAND" in (query.get("expression") or "") for query in queries):
        raise NotPriced(f"alarm {alarm.name}: anomaly detection bands are priced per band, not held here")
    watched = [query["metric"] for query in queries if query.get("metric")] if queries else [alarm.inputs]
    periods = [float(metric.get("period") or 60) for metric in watched]
    if periods and min(periods) < 60:
        return [Measured(HIGH_RESOLUTION_ALARM, "CloudWatch alarms, high resolution", len(watched))]
    return [Measured(ALARM, "CloudWatch alarms, standard resolution", len(watched))]


def _dashboard(_dashboard: Resource, _: Declared) -> list[Measured]:
    return [Measured(DASHBOARD, "CloudWatch dashboards", 1)]


def _log_metric_filter(metric_filter: Resource, _: Declared) -> list[Measured]:
    """A metric filter publishes one custom metric (or one per dimension value, which nobody declares)."""
    transformation = metric_filter.inputs.get("metricTransformation") or {}
    if transformation.get("dimensions"):
        raise NotPriced(
            f"log metric filter {metric_filter.name}: a metric with dimensions is one metric per distinct "
            "value, and the program does not say how many there are"
        )
    metric = (str(transformation["namespace"]), str(transformation["name"]), ())
    return [Measured(CUSTOM_METRIC, CUSTOM_METRICS, metric=metric)]


@lru_cache(maxsize=8)
def _load_module(path: str) -> ModuleType:
    name = "_bill_" + hashlib.sha256(path.encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise NotPriced(f"cannot read {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # a dataclass in it looks its module up there
    spec.loader.exec_module(module)
    return module


def _function_metrics(function: Resource, declared: Declared) -> list[Measured]:
    """The EMF metrics a function publishes. The metrics consumer's identity (namespace from its
    environment; metric name, dimension and the values a sale counts for from `aggregates.py` in its own
    deployment package) times the drinks of the seeded menu: every drink sold, and the total. A function
    that sets a metrics namespace with code that does not say what it publishes is refused."""
    variables = (function.inputs.get("environment") or {}).get("variables") or {}
    namespace = variables.get("POWERTOOLS_METRICS_NAMESPACE")
    sinks = variables.get("METRICS_SINKS")
    if not namespace or (sinks is not None and "cloudwatch" not in {s.strip() for s in sinks.split(",")}):
        return []
    archive = getattr(function.inputs.get("code"), "assets", None) or {}
    path = getattr(archive.get("aggregates.py"), "path", None)
    counting = _load_module(str(path)) if path else None
    if counting is None or not hasattr(counting, "metric_dimensions"):
        raise NotPriced(
            f"function {function.name} publishes EMF metrics to {namespace}, but its code does not say which"
        )
    return [
        Measured(
            CUSTOM_METRIC,
            CUSTOM_METRICS,
            metric=(str(namespace), counting.METRIC_NAME, ((counting.DRINK_DIMENSION, value),)),
        )
        for drink in declared.menu_drinks()
        for value in counting.metric_dimensions(counting.Sale("", "", "", drink))
    ]


def _kms_key(key: Resource, declared: Declared) -> list[Measured]:
    key_months = 1
    if key.inputs.get("enableKeyRotation"):
        period = float(key.inputs.get("rotationPeriodInDays") or DEFAULT_ROTATION_DAYS)
        days_before_the_month = (declared.profile.months_in_service - 1) * DAYS_PER_MONTH
        key_months += min(BILLED_ROTATIONS, math.floor(days_before_the_month / period))
    return [Measured(KMS_KEY, "KMS customer managed keys", key_months)]


def _secret(_secret: Resource, _: Declared) -> list[Measured]:
    return [Measured(SECRET, "Secrets Manager secrets", 1)]


def _table(table: Resource, _: Declared) -> list[Measured]:
    """Provisioned capacity is paid every hour, used or not; an on-demand table has no fixed charge."""
    if table.inputs.get("billingMode") != "PROVISIONED":
        return []
    indexes = table.inputs.get("globalSecondaryIndexes") or []
    read = float(table.inputs.get("readCapacity") or 0) + sum(
        float(i.get("readCapacity") or 0) for i in indexes
    )
    write = float(table.inputs.get("writeCapacity") or 0) + sum(
        float(i.get("writeCapacity") or 0) for i in indexes
    )
    return [
        Measured(READ_UNIT_HOURS, "DynamoDB provisioned read capacity", read * HOURS_PER_MONTH),
        Measured(WRITE_UNIT_HOURS, "DynamoDB provisioned write capacity", write * HOURS_PER_MONTH),
    ]


# Every resource type AWS charges per month, whether or not it is used, with its price keys.
FIXED_CHARGES: dict[str, FixedRule] = {
    "aws:cloudwatch/metricAlarm:MetricAlarm": FixedRule((ALARM, HIGH_RESOLUTION_ALARM), _alarm),
    "aws:cloudwatch/dashboard:Dashboard": FixedRule((DASHBOARD,), _dashboard),
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": FixedRule((CUSTOM_METRIC,), _log_metric_filter),
    "aws:lambda/function:Function": FixedRule((CUSTOM_METRIC,), _function_metrics),
    "aws:kms/key:Key": FixedRule((KMS_KEY,), _kms_key),
    "aws:secretsmanager/secret:Secret": FixedRule((SECRET,), _secret),
    "aws:dynamodb/table:Table": FixedRule((READ_UNIT_HOURS, WRITE_UNIT_HOURS), _table),
}

# Every other resource type the programs declare, and why it has no fixed monthly charge.
NO_FIXED_CHARGE: dict[str, str] = {
    "aws:apigateway/account:Account": "an account setting (the logging role)",
    "aws:apigateway/authorizer:Authorizer": "part of the API; requests are usage",
    "aws:apigateway/deployment:Deployment": "a snapshot of the API",
    "aws:apigateway/integration:Integration": "part of the API",
    "aws:apigateway/integrationResponse:IntegrationResponse": "part of the API",
    "aws:apigateway/method:Method": "part of the API",
    "aws:apigateway/methodResponse:MethodResponse": "part of the API",
    "aws:apigateway/methodSettings:MethodSettings": "throttling and logging (detailed metrics refused)",
    "aws:apigateway/resource:Resource": "part of the API",
    "aws:apigateway/response:Response": "part of the API (the gateway's own answers)",
    "aws:apigateway/restApi:RestApi": "REST APIs are charged per request (usage)",
    "aws:apigateway/stage:Stage": "free without a cache (a cache is refused)",
    "aws:cloudwatch/eventApiDestination:EventApiDestination": "charged per invocation",
    "aws:cloudwatch/eventBus:EventBus": "charged per event published (usage)",
    "aws:cloudwatch/eventConnection:EventConnection": (
        "its credentials secret is managed by EventBridge, its storage included in the API destination price"
    ),
    "aws:cloudwatch/eventRule:EventRule": "rules are free; the events they match are usage",
    "aws:cloudwatch/eventTarget:EventTarget": "part of a rule",
    "aws:cloudwatch/logGroup:LogGroup": "charged per GB ingested and stored (usage, by its retention)",
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": "a permission",
    "aws:cognito/identityPool:IdentityPool": "identity pools are free",
    "aws:cognito/identityPoolRoleAttachment:IdentityPoolRoleAttachment": "part of the identity pool",
    "aws:cognito/userGroup:UserGroup": "part of the user pool",
    "aws:cognito/userPool:UserPool": "charged per monthly active user (usage)",
    "aws:cognito/userPoolClient:UserPoolClient": "part of the user pool",
    "aws:dynamodb/tableItem:TableItem": "an item; its writes are usage",
    "aws:iam/role:Role": "IAM is free",
    "aws:iam/rolePolicy:RolePolicy": "IAM is free",
    "aws:iot/policy:Policy": "IoT policies are free; connection minutes and messages are usage",
    "aws:lambda/eventSourceMapping:EventSourceMapping": "its polling is charged as SQS requests (usage)",
    "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": "a setting of the function",
    "aws:lambda/layerVersion:LayerVersion": "code storage is not charged (within the regional quota)",
    "aws:lambda/permission:Permission": "a permission",
    "aws:sfn/stateMachine:StateMachine": "charged per transition, or per request and duration (usage)",
    "aws:sns/topic:Topic": "charged per publish and delivery (alarm notifications, not modelled)",
    "aws:sns/topicSubscription:TopicSubscription": "deliveries are charged per message (not modelled)",
    "aws:sqs/queue:Queue": "charged per request (usage)",
    "aws:sqs/queuePolicy:QueuePolicy": "a permission",
}

# Packages whose types are not cloud resources: the provider, and the project's own components (their
# children are what is billed).
NOT_CLOUD_RESOURCES: dict[str, str] = {
    "pulumi": "a provider, not a cloud resource",
    "serverlesspresso": "a component of this repo; its children are billed",
}


def _stage_not_priced(stage: Resource) -> str | None:
    if stage.inputs.get("cacheClusterEnabled"):
        return f"stage {stage.name}: an API cache is charged per hour by its size, which the price list lacks"
    return None


def _method_settings_not_priced(settings: Resource) -> str | None:
    if (settings.inputs.get("settings") or {}).get("metricsEnabled"):
        return f"method settings {settings.name}: detailed API metrics are custom metrics not counted here"
    return None


OPTIONS_NOT_PRICED: dict[str, Callable[[Resource], str | None]] = {
    "aws:apigateway/stage:Stage": _stage_not_priced,
    "aws:apigateway/methodSettings:MethodSettings": _method_settings_not_priced,
}


def classification(type_: str) -> str:
    """`FIXED`, "no fixed charge" or "not a cloud resource"; `Unclassified` for any other type."""
    if type_ in FIXED_CHARGES:
        return FIXED
    if type_ in NO_FIXED_CHARGE:
        return "no fixed charge"
    if type_.split(":", 1)[0] in NOT_CLOUD_RESOURCES:
        return "not a cloud resource"
    raise Unclassified(
        f"resource type {type_} is neither priced as fixed nor listed as having no fixed charge: "
        "classify it in localcloud/bill.py (FIXED_CHARGES or NO_FIXED_CHARGE)"
    )


def _resources(declared: Any) -> tuple[Resource, ...]:
    """A `ProgramRun` (its `resources`) or any iterable of registrations."""
    return tuple(getattr(declared, "resources", declared))


def fixed_charges(
    declared: Any, prices: MonthPrices, profile: Profile = DEFAULT_PROFILE
) -> tuple[Charge, ...]:
    """The month's fixed charges of the resources a program run declares, one line per charge."""
    resources = _resources(declared)
    unknown = []
    for type_ in sorted({resource.type for resource in resources}):
        try:
            classification(type_)
        except Unclassified:
            unknown.append(type_)
    if unknown:
        raise Unclassified(
            f"resource types neither priced as fixed nor listed as having no fixed charge: "
            f"{', '.join(unknown)}; classify each in localcloud/bill.py (FIXED_CHARGES or NO_FIXED_CHARGE)"
        )
    context = Declared(resources, profile)
    measured: list[Measured] = []
    for resource in resources:
        refusal = OPTIONS_NOT_PRICED.get(resource.type)
        why = refusal(resource) if refusal else None
        if why:
            raise NotPriced(why)
        rule = FIXED_CHARGES.get(resource.type)
        if rule is not None:
            measured += rule.measure(resource, context)
    totals: dict[tuple[str, str], float] = {}
    metrics: dict[str, set] = {}
    for item in measured:
        if item.metric is not None:
            metrics.setdefault(item.what, set()).add(item.metric)
        else:
            totals[(item.key, item.what)] = totals.get((item.key, item.what), 0.0) + item.quantity
    lines = [_charge(FIXED, key, what, quantity, prices) for (key, what), quantity in totals.items()]
    for what, distinct in metrics.items():
        label = f"{what} ({len(distinct)}, sent in {profile.event_hours} of {HOURS_PER_MONTH} h)"
        lines.append(_charge(FIXED, CUSTOM_METRIC, label, len(distinct) * profile.metered_share, prices))
    return tuple(sorted(lines, key=lambda line: MONTH_PRICE_KEYS.index(line.key)))


def custom_metrics(declared: Any, profile: Profile = DEFAULT_PROFILE) -> set[tuple[str, str, tuple]]:
    """The distinct custom metrics the program publishes (namespace, name, dimensions)."""
    resources = _resources(declared)
    context = Declared(resources, profile)
    found: set[tuple[str, str, tuple]] = set()
    for resource in resources:
        rule = FIXED_CHARGES.get(resource.type)
        if rule is not None and CUSTOM_METRIC in rule.keys:
            found |= {m.metric for m in rule.measure(resource, context) if m.metric is not None}
    return found


def log_retention_days(declared: Any) -> dict[str, float | None]:
    """Each declared log group's physical name and its retention in days (None: never expires)."""
    retention: dict[str, float | None] = {}
    for resource in _resources(declared):
        if resource.type == "aws:cloudwatch/logGroup:LogGroup":
            state = getattr(resource, "state", None) or {}
            name = resource.inputs.get("name") or state.get("name") or resource.name
            retention[str(name)] = float(resource.inputs.get("retentionInDays") or 0) or None
    return retention


# --------------------------------------------------------------------------- usage charges


@dataclass(frozen=True)
class SimulatedDay:
    """What the bill needs from one simulated day (`simulator.DayResult`)."""

    usage: costs.Usage
    scans: int  # customers who scanned the QR code (`--orders`)
    log_bytes_by_group: Mapping[str, float] = field(default_factory=dict)
    order_manager_runs: costs.WorkflowRuns = field(default_factory=lambda: costs.WorkflowRuns(0, 0.0, 0))

    def __post_init__(self) -> None:
        if self.scans < 1:
            raise ValueError("a month is scaled per customer who scanned, so the day needs at least one")

    @classmethod
    def of(cls, result: Any) -> SimulatedDay:
        logs = (result.counters.get("logs") or {}).get("by_group") or {}
        return cls(result.usage, len(result.plan.customers), dict(logs), result.order_manager_runs)


def scaled_usage(usage: costs.Usage, scans: int, profile: Profile) -> costs.Usage:
    """The day's usage per customer who scanned the QR code, times the scans of the profile's month
    (orders per event day times event days). Every counted quantity scales the same way, including the day's
    rejected, abandoned and invalid orders: a day of the profile has the simulated day's mix."""
    if scans < 1:
        raise ValueError("usage is scaled per customer who scanned, so the day needs at least one")
    factor = profile.orders / scans
    return costs.Usage(**{key: quantity * factor for key, quantity in usage.as_dict().items()})


def monthly_active_users(profile: Profile) -> int:
    """Customer accounts that sign in during the month, plus the staff's accounts."""
    return math.ceil(profile.orders / profile.orders_per_customer) + profile.staff


def connection_minutes(profile: Profile) -> float:
    """Staff apps connected through every opening hour of every event day, and each customer's phone
    for its minutes of waiting."""
    staff = profile.staff * profile.opening_hours * 60 * profile.event_days
    return staff + profile.orders * profile.phone_minutes_per_order


def stored_months(retention_days: float | None, months_in_service: int) -> float:
    """GB-months a GB ingested during the billed month adds to that month's bill, in steady state, with
    logs arriving evenly: its retention in months, or, for logs that never expire, everything ingested
    since the stack started (the months before, and on average half of this one)."""
    piled_up = months_in_service - 0.5
    return piled_up if not retention_days else min(piled_up, retention_days / DAYS_PER_MONTH)


def log_storage_gb_months(
    gb_by_group: Mapping[str | None, float],
    retention_by_group: Mapping[str, float | None],
    months_in_service: int,
    default_retention: float | None = None,
) -> float:
    """Stored logs of a month (uncompressed: AWS bills archived logs compressed, so this errs high). A
    group the program does not declare keeps ``default_retention`` (None: never expires)."""
    return sum(
        gb
        * stored_months(
            retention_by_group.get(group, default_retention) if group else default_retention,
            months_in_service,
        )
        for group, gb in gb_by_group.items()
    )


def _month_log_gb(day: SimulatedDay, profile: Profile) -> dict[str | None, float]:
    """The month's ingested GB per log group; ingest no group accounts for is kept under None."""
    factor = profile.orders / day.scans
    by_group: dict[str | None, float] = {
        group: size / costs.BYTES_PER_GB * factor for group, size in day.log_bytes_by_group.items()
    }
    unattributed = day.usage.logs_ingested_gb * factor - sum(by_group.values())
    if unattributed > 1e-12:
        by_group[None] = unattributed
    return by_group


def monthly_active_users_price(declared: Any) -> str:
    """The price key of the monthly active users of the declared user pool, by its tier."""
    tiers = {
        str(resource.inputs.get("userPoolTier") or "ESSENTIALS").upper()
        for resource in _resources(declared)
        if resource.type == "aws:cognito/userPool:UserPool"
    } or {"ESSENTIALS"}
    unpriced = sorted(tiers - set(MONTHLY_ACTIVE_USERS_BY_TIER))
    if unpriced:
        raise NotPriced(f"user pool tier {', '.join(unpriced)}: prices.json has no price for its users")
    if len(tiers) > 1:
        raise NotPriced(f"user pools of several tiers ({', '.join(sorted(tiers))}): whose users are whose?")
    return MONTHLY_ACTIVE_USERS_BY_TIER[tiers.pop()]


def usage_charges(
    day: SimulatedDay,
    prices: MonthPrices,
    profile: Profile,
    retention_by_group: Mapping[str, float | None],
    default_retention: float | None = None,
    users_price: str = MONTHLY_ACTIVE_USERS,
) -> tuple[Charge, ...]:
    """The month's usage: the day's priced usage scaled to the profile, then monthly active users (priced
    by ``users_price``, the user pool's tier), IoT connection-minutes and stored logs."""
    scaled = scaled_usage(day.usage, day.scans, profile)
    lines = [
        Charge(USAGE, line.key, line.service, line.quantity, line.unit, line.usd)
        for line in costs.price(scaled, prices.usage).lines
    ]
    stored = log_storage_gb_months(
        _month_log_gb(day, profile), retention_by_group, profile.months_in_service, default_retention
    )
    lines += [
        _charge(USAGE, users_price, "Cognito", monthly_active_users(profile), prices),
        _charge(USAGE, CONNECTION_MINUTES, "IoT Core", connection_minutes(profile), prices),
        _charge(USAGE, LOG_STORAGE, "CloudWatch Logs", stored, prices),
    ]
    return tuple(lines)


def _assumptions(day: SimulatedDay, profile: Profile) -> tuple[str, ...]:
    return (
        f"Usage: the simulated day per customer who scanned ({day.scans}), times {profile.orders} scans in "
        f"the month ({profile.event_days} event days of {profile.orders_per_day}).",
        f"Monthly active users: {monthly_active_users(profile) - profile.staff} customer accounts "
        f"({profile.orders_per_customer:g} order(s) each) + {profile.staff} staff accounts; AWS's free "
        "monthly active users are ignored, like every free tier here.",
        f"IoT: {profile.staff} staff apps connected {profile.opening_hours} h each event day, each "
        f"customer's phone {profile.phone_minutes_per_order:g} min. Custom metrics: metered in the "
        f"{profile.event_hours} opening hours only.",
    )


def month(
    day: SimulatedDay,
    declared: Any,
    prices: MonthPrices,
    profile: Profile = DEFAULT_PROFILE,
    title: str = "This architecture",
) -> Month:
    """The stack's month on the profile: fixed charges of what the program declares + scaled usage."""
    retention = log_retention_days(declared)
    logs = f"Logs: stored for each log group's retention (billed month: {profile.months_in_service})."
    undeclared = sorted(group for group in day.log_bytes_by_group if group not in retention)
    if undeclared:
        logs += f" Groups the program does not declare are kept forever: {', '.join(undeclared)}."
    if None in _month_log_gb(day, profile):
        logs += " Logs the day did not attribute to a group are kept forever."
    return Month(
        title,
        profile,
        fixed_charges(declared, prices, profile),
        usage_charges(day, prices, profile, retention, users_price=monthly_active_users_price(declared)),
        (*_assumptions(day, profile), logs),
    )


# --------------------------------------------------------------------------- the workshop's month


BILLED = ("month", "hour", "event_hour")


@dataclass(frozen=True)
class WorkshopItem:
    """One kind of the workshop's fixed-charge resources, its count and the document it comes from."""

    what: str
    price: str
    count: float
    billed: str  # BILLED: resource-months, units every hour, metrics metered in opening hours
    source: str


@dataclass(frozen=True)
class Workshop:
    """The workshop's fixed-charge resources and design choices, as `workshop.json` records them."""

    items: tuple[WorkshopItem, ...]
    order_manager: str
    log_retention_days: float | None
    log_retention_source: str

    @classmethod
    def load(cls, path: Path = WORKSHOP_FILE) -> Workshop:
        return cls.from_dict(json.loads(Path(path).read_text()), origin=str(path))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], origin: str = "workshop inventory") -> Workshop:
        items = []
        for entry in data.get("fixed") or []:
            item = WorkshopItem(
                entry["what"], entry["price"], float(entry["count"]), entry["billed"], entry.get("source", "")
            )
            if item.billed not in BILLED or item.count < 0 or not item.source:
                raise ValueError(
                    f"{origin}: {item.what!r} needs billed in {BILLED}, a count >= 0 and a source"
                )
            items.append(item)
        retention = data.get("log_retention_days")
        if not data.get("log_retention_source"):
            raise ValueError(f"{origin}: log_retention_source is required (where the retention comes from)")
        order_manager = (data.get("order_manager") or {}).get("type", "")
        if order_manager not in ("STANDARD", "EXPRESS"):
            raise ValueError(
                f"{origin}: order_manager.type must be STANDARD or EXPRESS, got {order_manager!r}"
            )
        return cls(
            tuple(items), order_manager, float(retention) if retention else None, data["log_retention_source"]
        )


def workshop_fixed_charges(workshop: Workshop, prices: MonthPrices, profile: Profile) -> tuple[Charge, ...]:
    """The workshop's fixed charges, measured as this architecture's are (metrics only in opening hours)."""
    quantities = {
        "month": lambda count: count,
        "hour": lambda count: count * HOURS_PER_MONTH,
        "event_hour": lambda count: count * profile.metered_share,
    }
    return tuple(
        _charge(FIXED, item.price, item.what, quantities[item.billed](item.count), prices)
        for item in workshop.items
    )


def workshop_month(
    day: SimulatedDay,
    prices: MonthPrices,
    profile: Profile = DEFAULT_PROFILE,
    workshop: Workshop | None = None,
) -> Month:
    """The workshop's design on the same profile: the day's usage with its STANDARD OrderManager, its
    own fixed-charge resources, and its log retention (none recorded: logs kept forever)."""
    workshop = workshop or Workshop.load()
    if workshop.order_manager == "STANDARD":
        day = replace(day, usage=costs.as_standard(day.usage, day.order_manager_runs))
    retention = workshop.log_retention_days
    logs = (
        f"Workshop: logs kept {retention:g} days."
        if retention
        else f"Workshop: logs never expire (billed month: {profile.months_in_service}), as no document sets "
        "a retention; its fixed-charge resources are those of localcloud/workshop.json."
    )
    return Month(
        "The workshop's design",
        profile,
        workshop_fixed_charges(workshop, prices, profile),
        usage_charges(day, prices, profile, {}, default_retention=retention),
        (*_assumptions(day, profile), logs),
    )


def months(
    day: SimulatedDay, declared: Any, prices: MonthPrices, profile: Profile = DEFAULT_PROFILE
) -> tuple[Month, Month]:
    """This architecture's month and the workshop's, on one profile."""
    return month(day, declared, prices, profile), workshop_month(day, prices, profile)


# --------------------------------------------------------------------------- printing


def _month_table(bill: Month) -> Any:
    from rich.table import Table

    table = Table(title=f"{bill.title}, a month of {bill.profile.describe()}")
    for column, justify in (
        ("Charge", "left"),
        ("Quantity", "right"),
        ("Unit", "left"),
        ("USD / month", "right"),
    ):
        table.add_column(column, justify=justify)
    for heading, charges, subtotal in (
        ("Fixed", bill.fixed, bill.fixed_usd),
        ("Usage", bill.usage, bill.usage_usd),
    ):
        for charge in charges:
            table.add_row(charge.what, f"{charge.quantity:,.6g}", charge.unit, f"{charge.usd:.4f}")
        table.add_row(f"[bold]{heading} charges", "", "", f"[bold]{subtotal:.2f}")
        table.add_section()
    table.add_row("[bold]Total", "", "", f"[bold]{bill.total_usd:.2f}")
    return table


def render_month(console: Any, ours: Month, workshop: Month | None = None) -> None:
    """Each month as a table of charges (fixed, then usage, with subtotals), then the two side by side."""
    from rich.table import Table

    for bill in (ours, workshop):
        if bill is not None:
            console.print(_month_table(bill))
    if workshop is not None:
        side_by_side = Table(title=f"The month compared ({ours.profile.describe()})")
        side_by_side.add_column("USD / month")
        side_by_side.add_column(ours.title, justify="right")
        side_by_side.add_column(workshop.title, justify="right")
        for label, attribute in (("Fixed", "fixed_usd"), ("Usage", "usage_usd"), ("Total", "total_usd")):
            side_by_side.add_row(
                label, f"{getattr(ours, attribute):.2f}", f"{getattr(workshop, attribute):.2f}"
            )
        console.print(side_by_side)
    for note in dict.fromkeys((*ours.notes, *(workshop.notes if workshop else ()))):
        console.print(f"[dim]{note}", highlight=False)
