"""The QR-code rules (pure): time buckets, their codes and tokens, and what a scan is answered."""

from __future__ import annotations

import datetime
import secrets
import string
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

CODE_ALPHABET = string.ascii_letters + string.digits
MAX_TOKEN_LENGTH = 64


@dataclass(frozen=True)
class BucketRules:
    """From the stack config: how long a code lives, how long it is, how many orders it admits."""

    interval_minutes: int
    code_length: int
    tokens_per_bucket: int

    @classmethod
    def from_settings(cls, setting: Callable[[str], str]) -> BucketRules:
        """From the function's settings (its environment, as the infrastructure set it)."""
        return cls(
            interval_minutes=int(setting("QR_INTERVAL_MINUTES")),
            code_length=int(setting("QR_CODE_LENGTH")),
            tokens_per_bucket=int(setting("QR_TOKENS_PER_BUCKET")),
        )

    @property
    def interval_ms(self) -> int:
        return self.interval_minutes * 60_000

    def bucket_id(self, now_ms: int) -> int:
        return now_ms // self.interval_ms


def _iso(ms: int) -> str:
    return datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.UTC).isoformat(timespec="milliseconds")


def new_bucket(rules: BucketRules, now_ms: int) -> dict[str, Any]:
    """The bucket item for the interval that holds ``now_ms``, with a fresh random code."""
    bucket_id = rules.bucket_id(now_ms)
    start = bucket_id * rules.interval_ms
    end = start + rules.interval_ms - 1
    return {
        "PK": bucket_id,
        "last_id": 0,
        "last_code": "".join(secrets.choice(CODE_ALPHABET) for _ in range(rules.code_length)),
        "start_ts": start,
        "start_full": _iso(start),
        "end_ts": end,
        "end_full": _iso(end),
        "availableTokens": rules.tokens_per_bucket,
    }


def plausible_token(token: str) -> bool:
    return 0 < len(token) <= MAX_TOKEN_LENGTH and all(ch in CODE_ALPHABET for ch in token)


def as_json(item: Mapping[str, Any]) -> dict[str, Any]:
    """A DynamoDB item (numbers as Decimal) as plain JSON values."""
    return {key: int(value) if hasattr(value, "as_integer_ratio") else value for key, value in item.items()}


def trading_day(now_ms: int, time_zone: str) -> str:
    """The shop's day (``YYYY-MM-DD`` in its time zone) at `now_ms`: order numbers restart with each."""
    zone = datetime.UTC if time_zone == "UTC" else zoneinfo.ZoneInfo(time_zone)
    return datetime.datetime.fromtimestamp(now_ms / 1000, zone).date().isoformat()
