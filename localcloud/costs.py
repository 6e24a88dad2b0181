"""The cost model: billable operations counted in the local cloud, priced with the dated `prices.json`.

Pure: counts in, USD out. ``Usage`` holds one quantity per priced dimension (its field names are the keys
of ``prices.json``); ``price(usage, prices)`` turns it into cost lines. ``as_standard(usage, runs)`` answers
"what if the OrderManager were a STANDARD workflow, as in the workshop?": the same usage with that
workflow's EXPRESS requests and duration removed and its state transitions priced per transition instead.

It models usage-driven charges only (no free tier, no monthly fixed charges; see ``not_modelled`` in the
price file), and the prices must be checked before anyone relies on the figures.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path

PRICE_FILE = Path(__file__).with_name("prices.json")

# Step Functions bills EXPRESS duration in 100 ms steps and memory in 64 MB steps (64 MB at least).
EXPRESS_DURATION_STEP_MS = 100
EXPRESS_MEMORY_STEP_MB = 64
BYTES_PER_GB = 1024**3


@dataclass(frozen=True)
class Usage:
    """Billable quantities; each field is priced by the ``prices.json`` entry of the same name."""

    lambda_requests: float = 0
    lambda_gb_seconds: float = 0
    eventbridge_events: float = 0
    sfn_standard_transitions: float = 0
    sfn_express_requests: float = 0
    sfn_express_gb_seconds: float = 0
    sqs_requests: float = 0
    dynamodb_write_units: float = 0
    dynamodb_read_units: float = 0
    logs_ingested_gb: float = 0
    cloudwatch_put_metric_data: float = 0
    apigateway_requests: float = 0
    iot_messages: float = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    def __sub__(self, other: Usage) -> Usage:
        return Usage(**{f.name: getattr(self, f.name) - getattr(other, f.name) for f in fields(self)})

    def as_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


USAGE_KEYS = tuple(f.name for f in fields(Usage))


@dataclass(frozen=True)
class Price:
    key: str
    service: str
    usd: float
    per: float
    unit: str

    def cost(self, quantity: float) -> float:
        return self.usd * quantity / self.per


@dataclass(frozen=True)
class PriceList:
    as_of: str
    region: str
    currency: str
    source: str
    caveat: str
    prices: Mapping[str, Price]

    @classmethod
    def load(cls, path: Path = PRICE_FILE) -> PriceList:
        return cls.from_dict(json.loads(Path(path).read_text()), origin=str(path))

    @classmethod
    def from_dict(cls, data: Mapping, origin: str = "price list") -> PriceList:
        entries = data.get("prices", {})
        missing = sorted(set(USAGE_KEYS) - set(entries))
        unknown = sorted(set(entries) - set(USAGE_KEYS))
        if missing or unknown:
            raise ValueError(f"{origin}: prices missing for {missing}, unknown prices {unknown}")
        for meta in ("as_of", "region", "currency", "source", "caveat"):
            if not data.get(meta):
                raise ValueError(
                    f"{origin}: '{meta}' is required (a price list must say when and where from)"
                )
        prices = {}
        for key, entry in entries.items():
            usd, per = float(entry["usd"]), float(entry["per"])
            if usd < 0 or per <= 0:
                raise ValueError(f"{origin}: {key} needs usd >= 0 and per > 0, got {usd} per {per}")
            prices[key] = Price(key, entry["service"], usd, per, entry["unit"])
        return cls(data["as_of"], data["region"], data["currency"], data["source"], data["caveat"], prices)


@dataclass(frozen=True)
class CostLine:
    key: str
    service: str
    quantity: float
    unit: str
    usd: float


@dataclass(frozen=True)
class CostReport:
    lines: tuple[CostLine, ...]

    @property
    def total_usd(self) -> float:
        return sum(line.usd for line in self.lines)

    def by_service(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for line in self.lines:
            totals[line.service] = totals.get(line.service, 0.0) + line.usd
        return totals

    def per_thousand(self, orders: int) -> float:
        """Modelled USD per 1000 ``orders`` (e.g. completed orders)."""
        if orders <= 0:
            raise ValueError("cost per 1000 orders needs at least one order")
        return self.total_usd * 1000 / orders


def price(usage: Usage, prices: PriceList) -> CostReport:
    return CostReport(
        tuple(
            CostLine(
                key,
                prices.prices[key].service,
                quantity,
                prices.prices[key].unit,
                prices.prices[key].cost(quantity),
            )
            for key, quantity in usage.as_dict().items()
        )
    )


def lambda_gb_seconds(billed_ms: float, memory_mb: float) -> float:
    return billed_ms / 1000 * memory_mb / 1024


def express_gb_seconds(durations_ms: Iterable[float], memory_mb: float = EXPRESS_MEMORY_STEP_MB) -> float:
    """Billed GB-seconds of EXPRESS executions: each duration rounded up to 100 ms, memory to 64 MB steps."""
    memory_gb = max(1, math.ceil(memory_mb / EXPRESS_MEMORY_STEP_MB)) * EXPRESS_MEMORY_STEP_MB / 1024
    billed_ms = sum(
        max(1, math.ceil(ms / EXPRESS_DURATION_STEP_MS)) * EXPRESS_DURATION_STEP_MS for ms in durations_ms
    )
    return billed_ms / 1000 * memory_gb


@dataclass(frozen=True)
class WorkflowRuns:
    """What one workflow's runs consumed: requests, billed EXPRESS GB-seconds, and the states they entered."""

    requests: int
    express_gb_seconds: float
    state_transitions: int


def as_standard(usage: Usage, runs: WorkflowRuns) -> Usage:
    """``usage`` as if the workflow of ``runs`` were STANDARD: transitions instead of requests + duration."""
    if runs.requests > usage.sfn_express_requests + 1e-9 or runs.express_gb_seconds > (
        usage.sfn_express_gb_seconds + 1e-9
    ):
        raise ValueError("the workflow's EXPRESS runs exceed the EXPRESS usage they are part of")
    return replace(
        usage,
        sfn_express_requests=usage.sfn_express_requests - runs.requests,
        sfn_express_gb_seconds=usage.sfn_express_gb_seconds - runs.express_gb_seconds,
        sfn_standard_transitions=usage.sfn_standard_transitions + runs.state_transitions,
    )
