"""What every project's typed stack config is built from: `Setting`, the checks, parsing, `ConfigError`,
the settings groups both projects share, and the generated reference table.

A project declares its settings as a tuple of `Setting`s (its single contract: `Pulumi.yaml` declares the
same keys and the docs' table is generated from it) and turns raw values into its own frozen config
with `validate`. The shop's is `config.py`, the order fulfillment's `fulfillment/settings.py`.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# OFF is not offered: an EXPRESS workflow keeps no execution history, so its log is the only record.
WORKFLOW_LOG_LEVELS = ("ALL", "ERROR", "FATAL")

Check = Callable[[Any], "str | None"]


@dataclass(frozen=True)
class Setting:
    key: str
    type: str  # "integer" | "string" | "boolean" | "array" (as Pulumi.yaml spells them)
    description: str
    default: Any = None  # None: the key is required
    check: Check | None = None  # returns what is allowed when the value is not

    @property
    def required(self) -> bool:
        return self.default is None


# --------------------------------------------------------------------------- checks


def between(low: int, high: int) -> Check:
    return lambda value: None if low <= value <= high else f"an integer from {low} to {high}"


def one_of(choices: tuple) -> Check:
    return lambda value: None if value in choices else "one of " + ", ".join(map(str, choices))


def event_source(value: str) -> str | None:
    ok = 0 < len(value) <= 256 and not value.startswith("aws.") and value.strip() == value
    return None if ok else "a non-empty name of at most 256 characters, not starting with 'aws.'"


def text(value: str) -> str | None:
    return None if value.strip() and len(value) <= 256 else "a non-empty text of at most 256 characters"


def optional_arn(value: str) -> str | None:
    return None if value == "" or value.startswith("arn:") else "an ARN (arn:...) or empty"


def optional_email(value: str) -> str | None:
    ok = value == "" or (len(value) <= 254 and re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value) is not None)
    return None if ok else "one e-mail address such as oncall@example.com, or empty"


def cors_origin(value: str) -> str | None:
    ok = value == "*" or re.fullmatch(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?", value) is not None
    return None if ok else "'*' or one origin such as https://coffee.example.com (scheme, host, port)"


# --------------------------------------------------------------------------- errors and parsing


class ConfigError(ValueError):
    """Every problem of one stack's configuration, each naming the stack, key, value and what is allowed."""

    def __init__(self, stack: str, problems: list[str]):
        self.stack = stack
        self.problems = problems
        super().__init__(f"stack {stack!r} has invalid configuration:\n  - " + "\n  - ".join(problems))


def parse_value(setting: Setting, raw: Any) -> Any:
    """Turn the CLI's text (or an already typed value) into the setting's type; ValueError if impossible."""
    if setting.type == "integer":
        if isinstance(raw, bool):
            raise ValueError
        if isinstance(raw, int):
            return raw
        digits = str(raw).strip()
        if not digits.lstrip("-").isdigit():
            raise ValueError
        return int(digits)
    if setting.type == "boolean":
        if isinstance(raw, bool):
            return raw
        lowered = str(raw).strip().lower()
        if lowered not in ("true", "false"):
            raise ValueError
        return lowered == "true"
    if setting.type == "array":
        value = json.loads(raw) if isinstance(raw, str) else raw
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ValueError
        return value
    if not isinstance(raw, str):
        raise TypeError
    return raw


TYPE_WORDS = {
    "integer": "an integer",
    "boolean": "true or false",
    "array": "a list of strings",
    "string": "a string",
}


def validate(
    project: str,
    stack: str,
    settings: Sequence[Setting],
    values: Mapping[str, Any],
    region: str | None,
    cross_field: Callable[[Mapping[str, Any]], list[str]] | None = None,
) -> dict[str, Any]:
    """Every setting parsed and checked (defaults filled in), or one `ConfigError` listing every problem.

    `values` are keys without the project prefix; `cross_field` checks rules between settings once each
    setting is valid on its own.
    """
    problems: list[str] = []
    parsed: dict[str, Any] = {}
    known = {setting.key for setting in settings}

    for unknown in sorted(set(values) - known):
        problems.append(f"{project}:{unknown} is not a setting of this project (see Pulumi.yaml)")
    for setting in settings:
        if setting.key not in values:
            if setting.required:
                problems.append(f"{project}:{setting.key} is required: {setting.description}")
            else:
                parsed[setting.key] = setting.default
            continue
        raw = values[setting.key]
        try:
            value = parse_value(setting, raw)
        except (ValueError, TypeError):
            problems.append(
                f"{project}:{setting.key} = {raw!r} is not allowed; expected {TYPE_WORDS[setting.type]}"
            )
            continue
        allowed = setting.check(value) if setting.check else None
        if allowed:
            problems.append(f"{project}:{setting.key} = {value!r} is not allowed; expected {allowed}")
            continue
        parsed[setting.key] = value
    if not region:
        problems.append("aws:region is required: the region every resource of the stack lives in")

    if not problems and cross_field is not None:
        problems.extend(cross_field(parsed))
    if problems:
        raise ConfigError(stack, problems)
    return parsed


def pulumi_values(project: str, settings: Sequence[Setting]) -> tuple[str, dict[str, Any], str | None]:
    """(stack, raw values of the project's settings, region) as the Pulumi runtime hands them over."""
    import pulumi

    project_config = pulumi.Config(project)
    values = {}
    for setting in settings:
        raw = project_config.get(setting.key)
        if raw is not None:
            values[setting.key] = raw
    return pulumi.get_stack(), values, pulumi.Config("aws").get("region")


def markdown_table(settings: Sequence[Setting]) -> str:
    """A configuration reference for the docs, generated from a project's settings."""
    rows = ["| Key | Type | Default | Meaning |", "|---|---|---|---|"]
    for s in settings:
        default = "*required*" if s.required else f"`{json.dumps(s.default)}`"
        rows.append(f"| `{s.key}` | {s.type} | {default} | {s.description} |")
    return "\n".join(rows)


def markdown_command(settings: Sequence[Setting], module: str, argv: Sequence[str] | None = None) -> int:
    """`python -m <module> --markdown`: print the table; anything else is a usage error."""
    if list(sys.argv[1:] if argv is None else argv) == ["--markdown"]:
        print(markdown_table(settings))
        return 0
    print(f"usage: python -m {module} --markdown", file=sys.stderr)
    return 2


# --------------------------------------------------------------------------- settings both projects declare

# AWS keeps one API Gateway CloudWatch role per account and region, and since pulumi-aws 7 destroying the
# resource resets it: exactly one stack per account and region may own it, the others only rely on it.
# https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-apigateway-account.html
API_GATEWAY_ACCOUNT_OWNER = Setting(
    "apiGatewayAccountOwner",
    "boolean",
    "This stack sets the account and region's one API Gateway logging role (true in exactly one stack "
    "per account and region: deploy it first; every other stack's access logs rely on it).",
    False,
)


# --------------------------------------------------------------------------- groups both projects use


@dataclass(frozen=True)
class DataProtection:
    point_in_time_recovery: bool
    deletion_protection: bool
    retain: bool  # Pulumi `protect` + `retain_on_delete`


@dataclass(frozen=True)
class Delivery:
    """Retry and dead-letter settings shared by every asynchronous hop."""

    rule_retry_attempts: int
    rule_max_event_age_seconds: int
    async_retry_attempts: int
    dead_letter_retention_seconds: int


@dataclass(frozen=True)
class Observability:
    log_retention_days: int
    log_level: str
    workflow_log_level: str
    tracing: bool
    alarm_topic_arn: str
    alarm_email: str = ""  # subscribed to the alarm topic; empty: none


# --------------------------------------------------------------------------- rules between shared settings


def burst_below_rate(project: str, v: Mapping[str, Any]) -> list[str]:
    if v["apiThrottleBurstLimit"] >= v["apiThrottleRateLimit"]:
        return []
    return [
        f"{project}:apiThrottleBurstLimit = {v['apiThrottleBurstLimit']} is not allowed; expected at "
        f"least apiThrottleRateLimit = {v['apiThrottleRateLimit']} (a burst below the steady rate "
        "throttles steady traffic)"
    ]


def retained_without_deletion_protection(project: str, v: Mapping[str, Any]) -> list[str]:
    if not v["retainData"] or v["deletionProtection"]:
        return []
    return [
        f"{project}:retainData = True is not allowed; expected deletionProtection true as well, so the "
        "retained tables cannot be deleted outside Pulumi either"
    ]
