"""The typed stack configuration: every setting of the project, read once and validated before any resource.

`SETTINGS` is the single contract. `Pulumi.yaml` declares the same keys (a test keeps them equal) and the
README's reference table is generated from it (`python -m config --markdown`; a test fails if they drift).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

PROJECT = "serverlesspresso"

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
# OFF is not offered: the EXPRESS OrderManager keeps no execution history, so its log is the only record.
WORKFLOW_LOG_LEVELS = ("ALL", "ERROR", "FATAL")
METRICS_SINKS = ("dynamodb", "cloudwatch")
BILLING_MODES = ("PAY_PER_REQUEST", "PROVISIONED")


@dataclass(frozen=True)
class Setting:
    key: str
    type: str  # "integer" | "string" | "boolean" | "array" (as Pulumi.yaml spells them)
    description: str
    default: Any = None  # None: the key is required
    check: Callable[[Any], str | None] | None = None  # returns what is allowed when the value is not

    @property
    def required(self) -> bool:
        return self.default is None


def _between(low: int, high: int) -> Callable[[int], str | None]:
    return lambda value: None if low <= value <= high else f"an integer from {low} to {high}"


def _one_of(choices: tuple) -> Callable[[Any], str | None]:
    return lambda value: None if value in choices else "one of " + ", ".join(map(str, choices))


def _event_source(value: str) -> str | None:
    ok = 0 < len(value) <= 256 and not value.startswith("aws.") and value.strip() == value
    return None if ok else "a non-empty name of at most 256 characters, not starting with 'aws.'"


def _text(value: str) -> str | None:
    return None if value.strip() and len(value) <= 256 else "a non-empty text of at most 256 characters"


def _optional_arn(value: str) -> str | None:
    return None if value == "" or value.startswith("arn:") else "an ARN (arn:...) or empty"


def _cors_origin(value: str) -> str | None:
    ok = value == "*" or re.fullmatch(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?", value) is not None
    return None if ok else "'*' or one origin such as https://coffee.example.com (scheme, host, port)"


def _base_url(value: str) -> str | None:
    ok = re.fullmatch(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[^?#\s]*)?", value) is not None
    return None if ok else "an http(s) URL without query or fragment, e.g. https://display.example.com/"


def _sinks(value: list) -> str | None:
    ok = value and len(set(value)) == len(value) and all(v in METRICS_SINKS for v in value)
    return None if ok else "a non-empty list without repeats of: " + ", ".join(METRICS_SINKS)


SETTINGS: tuple[Setting, ...] = (
    Setting("owner", "string", "Team or person answerable for the stack (tag `owner`).", check=_text),
    Setting("costCenter", "string", "Cost centre charged for the stack (tag `cost-center`).", check=_text),
    Setting(
        "capacity",
        "integer",
        "Orders the shop works on at once; the next one is turned away.",
        20,
        _between(1, 500),
    ),
    Setting(
        "customerTimeoutSeconds",
        "integer",
        "How long a customer has to choose a drink.",
        300,
        _between(1, 3600),
    ),
    Setting(
        "baristaTimeoutSeconds",
        "integer",
        "How long the baristas have to finish an order.",
        900,
        _between(1, 86400),
    ),
    Setting(
        "eventSource",
        "string",
        "`source` of every event the shop emits.",
        "awsserverlessda.serverlesspresso",
        _event_source,
    ),
    Setting("logRetentionDays", "integer", "Retention of every log group.", 14, _one_of(LOG_RETENTION_DAYS)),
    Setting("logLevel", "string", "Log level of the functions.", "INFO", _one_of(LOG_LEVELS)),
    Setting(
        "workflowLogLevel",
        "string",
        "Log level of the workflows' execution logs.",
        "ERROR",
        _one_of(WORKFLOW_LOG_LEVELS),
    ),
    Setting("tracing", "boolean", "X-Ray tracing for functions and workflows.", False),
    Setting(
        "alarmTopicArn",
        "string",
        "SNS topic of every alarm (dead letters, consumer errors); empty: the stack creates one.",
        "",
        _optional_arn,
    ),
    Setting("pointInTimeRecovery", "boolean", "Point-in-time recovery on every table.", False),
    Setting("deletionProtection", "boolean", "DynamoDB deletion protection on every table.", False),
    Setting(
        "retainData",
        "boolean",
        "Tables are `protect`ed and kept on `pulumi destroy` (retain_on_delete).",
        False,
    ),
    Setting(
        "ruleRetryAttempts",
        "integer",
        "EventBridge delivery retries per target before the DLQ.",
        185,
        _between(0, 185),
    ),
    Setting(
        "ruleMaxEventAgeSeconds",
        "integer",
        "How long EventBridge keeps retrying a target.",
        86400,
        _between(60, 86400),
    ),
    Setting(
        "asyncRetryAttempts",
        "integer",
        "Lambda retries of a failed asynchronous invocation.",
        2,
        _between(0, 2),
    ),
    Setting(
        "deadLetterRetentionDays",
        "integer",
        "How long dead-letter queues keep messages.",
        14,
        _between(1, 14),
    ),
    Setting(
        "metricsSinks",
        "array",
        "Where drink metrics go: `dynamodb`, `cloudwatch` or both.",
        ["dynamodb", "cloudwatch"],
        _sinks,
    ),
    Setting(
        "metricsNamespace", "string", "CloudWatch namespace of the drink metrics.", "Serverlesspresso", _text
    ),
    Setting("metricsBatchSize", "integer", "Records per consumer invocation.", 10, _between(1, 10000)),
    Setting(
        "metricsBatchWindowSeconds",
        "integer",
        "How long the consumer waits to fill a batch.",
        30,
        _between(0, 300),
    ),
    Setting("metricsReservedConcurrency", "integer", "Concurrent consumers at most.", 1, _between(1, 1000)),
    Setting(
        "metricsConsumerTimeoutSeconds", "integer", "Timeout of the metrics consumer.", 30, _between(1, 900)
    ),
    Setting(
        "metricsQueueVisibilityTimeoutSeconds",
        "integer",
        "Visibility timeout of the metrics queue; at least 6 x the consumer timeout.",
        180,
        _between(0, 43200),
    ),
    Setting(
        "metricsMaxReceiveCount",
        "integer",
        "Receives of a metrics message before its DLQ.",
        5,
        _between(1, 1000),
    ),
    Setting(
        "metricsTableBillingMode",
        "string",
        "Billing mode of the metrics table.",
        "PAY_PER_REQUEST",
        _one_of(BILLING_MODES),
    ),
    Setting(
        "metricsTableWriteCapacity",
        "integer",
        "Write capacity units when PROVISIONED.",
        5,
        _between(1, 40000),
    ),
    Setting(
        "metricsTableReadCapacity", "integer", "Read capacity units when PROVISIONED.", 5, _between(1, 40000)
    ),
    Setting(
        "qrTimeIntervalMinutes",
        "integer",
        "How long one QR code (a bucket of tokens) stays valid.",
        5,
        _between(1, 1440),
    ),
    Setting("qrCodeLength", "integer", "Characters of a QR code.", 10, _between(6, 64)),
    Setting(
        "qrTokensPerBucket",
        "integer",
        "Orders one QR code admits before the display shows a new one.",
        10,
        _between(1, 10000),
    ),
    Setting(
        "apiThrottleRateLimit",
        "integer",
        "Steady requests per second each API stage accepts.",
        50,
        _between(1, 10000),
    ),
    Setting(
        "apiThrottleBurstLimit",
        "integer",
        "Requests each API stage accepts in a burst.",
        100,
        _between(1, 5000),
    ),
    Setting(
        "corsAllowOrigin",
        "string",
        "`Access-Control-Allow-Origin` of every API answer (the hosted apps need `*`).",
        "*",
        _cors_origin,
    ),
    Setting(
        "passwordSignIn",
        "boolean",
        "Let the app client sign in with a plain password (USER_PASSWORD_AUTH): for offline runs and "
        "tests; the apps use SRP.",
        False,
    ),
    Setting(
        "displayAppBaseUrl",
        "string",
        "Where the display app is hosted; the `DisplayAppURI` output hands it the stack's settings.",
        "https://workshop-display.serverlesscoffee.com/",
        _base_url,
    ),
)
SETTINGS_BY_KEY = {setting.key: setting for setting in SETTINGS}


class ConfigError(ValueError):
    """Every problem of one stack's configuration, each naming the stack, key, value and what is allowed."""

    def __init__(self, stack: str, problems: list[str]):
        self.stack = stack
        self.problems = problems
        super().__init__(f"stack {stack!r} has invalid configuration:\n  - " + "\n  - ".join(problems))


@dataclass(frozen=True)
class Shop:
    capacity: int
    customer_timeout_seconds: int
    barista_timeout_seconds: int
    event_source: str


@dataclass(frozen=True)
class Observability:
    log_retention_days: int
    log_level: str
    workflow_log_level: str
    tracing: bool
    alarm_topic_arn: str


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
class Metrics:
    sinks: tuple[str, ...]
    namespace: str
    batch_size: int
    batch_window_seconds: int
    reserved_concurrency: int
    consumer_timeout_seconds: int
    queue_visibility_timeout_seconds: int
    max_receive_count: int
    table_billing_mode: str
    table_read_capacity: int
    table_write_capacity: int


@dataclass(frozen=True)
class FrontDoor:
    """What the apps call: the REST APIs, sign-in and the QR codes."""

    qr_interval_minutes: int
    qr_code_length: int
    qr_tokens_per_bucket: int
    throttle_rate_limit: int
    throttle_burst_limit: int
    cors_allow_origin: str
    password_sign_in: bool
    display_app_base_url: str


@dataclass(frozen=True)
class StackConfig:
    stack: str
    region: str
    shop: Shop
    observability: Observability
    data_protection: DataProtection
    delivery: Delivery
    metrics: Metrics
    front_door: FrontDoor
    tags: Mapping[str, str]


def _parse(setting: Setting, raw: Any) -> Any:
    """Turn the CLI's text (or an already typed value) into the setting's type; ValueError if impossible."""
    if setting.type == "integer":
        if isinstance(raw, bool):
            raise ValueError
        if isinstance(raw, int):
            return raw
        text = str(raw).strip()
        if not text.lstrip("-").isdigit():
            raise ValueError
        return int(text)
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


_TYPE_WORDS = {
    "integer": "an integer",
    "boolean": "true or false",
    "array": "a list of strings",
    "string": "a string",
}


def load_config(stack: str, values: Mapping[str, Any], region: str | None) -> StackConfig:
    """Validate one stack's raw settings (keys without the project prefix) into a `StackConfig`."""
    problems: list[str] = []
    parsed: dict[str, Any] = {}

    def problem(key: str, value: Any, allowed: str) -> None:
        problems.append(f"{PROJECT}:{key} = {value!r} is not allowed; expected {allowed}")

    for unknown in sorted(set(values) - set(SETTINGS_BY_KEY)):
        problems.append(f"{PROJECT}:{unknown} is not a setting of this project (see Pulumi.yaml)")
    for setting in SETTINGS:
        if setting.key not in values:
            if setting.required:
                problems.append(f"{PROJECT}:{setting.key} is required: {setting.description}")
                continue
            parsed[setting.key] = setting.default
            continue
        raw = values[setting.key]
        try:
            value = _parse(setting, raw)
        except (ValueError, TypeError):
            problem(setting.key, raw, _TYPE_WORDS[setting.type])
            continue
        allowed = setting.check(value) if setting.check else None
        if allowed:
            problem(setting.key, value, allowed)
            continue
        parsed[setting.key] = value
    if not region:
        problems.append("aws:region is required: the region every resource of the stack lives in")

    if not problems:
        problems.extend(_cross_field_problems(parsed))
    if problems:
        raise ConfigError(stack, problems)

    return StackConfig(
        stack=stack,
        region=str(region),
        shop=Shop(
            parsed["capacity"],
            parsed["customerTimeoutSeconds"],
            parsed["baristaTimeoutSeconds"],
            parsed["eventSource"],
        ),
        observability=Observability(
            parsed["logRetentionDays"],
            parsed["logLevel"],
            parsed["workflowLogLevel"],
            parsed["tracing"],
            parsed["alarmTopicArn"],
        ),
        data_protection=DataProtection(
            parsed["pointInTimeRecovery"], parsed["deletionProtection"], parsed["retainData"]
        ),
        delivery=Delivery(
            parsed["ruleRetryAttempts"],
            parsed["ruleMaxEventAgeSeconds"],
            parsed["asyncRetryAttempts"],
            parsed["deadLetterRetentionDays"] * 86400,
        ),
        metrics=Metrics(
            sinks=tuple(parsed["metricsSinks"]),
            namespace=parsed["metricsNamespace"],
            batch_size=parsed["metricsBatchSize"],
            batch_window_seconds=parsed["metricsBatchWindowSeconds"],
            reserved_concurrency=parsed["metricsReservedConcurrency"],
            consumer_timeout_seconds=parsed["metricsConsumerTimeoutSeconds"],
            queue_visibility_timeout_seconds=parsed["metricsQueueVisibilityTimeoutSeconds"],
            max_receive_count=parsed["metricsMaxReceiveCount"],
            table_billing_mode=parsed["metricsTableBillingMode"],
            table_read_capacity=parsed["metricsTableReadCapacity"],
            table_write_capacity=parsed["metricsTableWriteCapacity"],
        ),
        front_door=FrontDoor(
            qr_interval_minutes=parsed["qrTimeIntervalMinutes"],
            qr_code_length=parsed["qrCodeLength"],
            qr_tokens_per_bucket=parsed["qrTokensPerBucket"],
            throttle_rate_limit=parsed["apiThrottleRateLimit"],
            throttle_burst_limit=parsed["apiThrottleBurstLimit"],
            cors_allow_origin=parsed["corsAllowOrigin"],
            password_sign_in=parsed["passwordSignIn"],
            display_app_base_url=parsed["displayAppBaseUrl"],
        ),
        tags={"owner": parsed["owner"], "cost-center": parsed["costCenter"]},
    )


def _cross_field_problems(v: Mapping[str, Any]) -> list[str]:
    problems = []
    least_visibility = 6 * v["metricsConsumerTimeoutSeconds"]
    if v["metricsQueueVisibilityTimeoutSeconds"] < least_visibility:
        problems.append(
            f"{PROJECT}:metricsQueueVisibilityTimeoutSeconds = "
            f"{v['metricsQueueVisibilityTimeoutSeconds']} is not allowed; expected at least "
            f"6 x metricsConsumerTimeoutSeconds = {least_visibility}, or a message reappears while "
            "its batch is still being counted"
        )
    if v["metricsBatchSize"] > 10 and v["metricsBatchWindowSeconds"] < 1:
        problems.append(
            f"{PROJECT}:metricsBatchSize = {v['metricsBatchSize']} is not allowed; expected at most 10 while "
            "metricsBatchWindowSeconds is 0 (SQS batches above 10 need a batching window)"
        )
    if v["apiThrottleBurstLimit"] < v["apiThrottleRateLimit"]:
        problems.append(
            f"{PROJECT}:apiThrottleBurstLimit = {v['apiThrottleBurstLimit']} is not allowed; expected at "
            f"least apiThrottleRateLimit = {v['apiThrottleRateLimit']} (a burst below the steady rate "
            "throttles steady traffic)"
        )
    if v["retainData"] and not v["deletionProtection"]:
        problems.append(
            f"{PROJECT}:retainData = True is not allowed; expected deletionProtection true as well, so the "
            "retained tables cannot be deleted outside Pulumi either"
        )
    return problems


def from_pulumi() -> StackConfig:
    """Read the current stack's settings through the Pulumi runtime."""
    import pulumi

    project_config = pulumi.Config(PROJECT)
    values = {}
    for setting in SETTINGS:
        raw = project_config.get(setting.key)
        if raw is not None:
            values[setting.key] = raw
    return load_config(pulumi.get_stack(), values, pulumi.Config("aws").get("region"))


def markdown_table() -> str:
    """The README's configuration reference, generated from `SETTINGS`."""
    rows = ["| Key | Type | Default | Meaning |", "|---|---|---|---|"]
    for s in SETTINGS:
        default = "*required*" if s.required else f"`{json.dumps(s.default)}`"
        rows.append(f"| `{s.key}` | {s.type} | {default} | {s.description} |")
    return "\n".join(rows)


if __name__ == "__main__":
    if sys.argv[1:] == ["--markdown"]:
        print(markdown_table())
    else:
        print("usage: python -m config --markdown", file=sys.stderr)
        sys.exit(2)
