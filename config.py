"""The typed stack configuration: every setting of the project, read once and validated before any resource.

`SETTINGS` is the single contract. `Pulumi.yaml` declares the same keys (a test keeps them equal) and the
table of `docs/configuration.md` is generated from it (`python -m config --markdown`; a test fails if they
drift).
The machinery (`Setting`, the checks, parsing, `ConfigError`, the shared groups) is `stack_settings`.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import stack_settings
from stack_settings import (
    API_GATEWAY_ACCOUNT_OWNER,
    LOG_LEVELS,
    LOG_RETENTION_DAYS,
    WORKFLOW_LOG_LEVELS,
    DataProtection,
    Delivery,
    Observability,
    Setting,
)
from stack_settings import ConfigError as ConfigError  # callers catch config.ConfigError
from stack_settings import between as _between
from stack_settings import cors_origin as _cors_origin
from stack_settings import event_source as _event_source
from stack_settings import one_of as _one_of
from stack_settings import optional_arn as _optional_arn
from stack_settings import optional_email as _optional_email
from stack_settings import text as _text

PROJECT = "serverlesspresso"

METRICS_SINKS = ("dynamodb", "cloudwatch")
BILLING_MODES = ("PAY_PER_REQUEST", "PROVISIONED")
REALTIME_ACCESS = ("guests", "signedIn")


def _base_url(value: str) -> str | None:
    ok = re.fullmatch(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[^?#\s]*)?", value) is not None
    return None if ok else "an http(s) URL without query or fragment, e.g. https://display.example.com/"


def _optional_ses_identity(value: str) -> str | None:
    ok = value == "" or re.fullmatch(r"arn:aws[a-z-]*:ses:[a-z0-9-]+:\d{12}:identity/\S+", value) is not None
    return (
        None
        if ok
        else "the ARN of a verified SES identity (arn:aws:ses:<region>:<account>:identity/...), or empty"
    )


def _time_zone(value: str) -> str | None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return "an IANA time zone name, e.g. UTC or Europe/Madrid"
    return None


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
        "SNS topic of every alarm (dead letters, function errors, failed or timed-out workflow runs); empty: "
        "the stack creates one, encrypted with a key CloudWatch may use.",
        "",
        _optional_arn,
    ),
    Setting(
        "alarmEmail",
        "string",
        "E-mail address subscribed to the alarm topic (it must confirm the subscription); empty: none.",
        "",
        _optional_email,
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
    Setting(
        "metricsReservedConcurrency",
        "integer",
        "Concurrent consumers at most: the consumer reserves as many and its queue mapping never runs more "
        "(maximum concurrency, at least 2), so no batch is throttled.",
        2,
        _between(2, 1000),
    ),
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
        "signUpEmailSourceArn",
        "string",
        "ARN of a verified SES identity that sends the sign-up codes; empty: Cognito's built-in e-mail, "
        "50 messages a day per account, far short of a 1,000-drink day.",
        "",
        _optional_ses_identity,
    ),
    Setting(
        "signUpEmailFrom",
        "string",
        "The sender of the sign-up codes with an SES identity, e.g. `Coffee <coffee@example.com>`; "
        "required with `signUpEmailSourceArn`.",
        "",
    ),
    API_GATEWAY_ACCOUNT_OWNER,
    Setting(
        "timeZone",
        "string",
        "The shop's time zone (IANA name, e.g. `Europe/Madrid`): order numbers restart at 1 on each of its "
        "days.",
        "UTC",
        _time_zone,
    ),
    Setting(
        "realtimeAccess",
        "string",
        "Who may listen to the shop's IoT topics. `guests`: any identity-pool guest hears every topic (the "
        "workshop's apps connect as guests). `signedIn`: guests hear the config topic only, the `admin` "
        "group the staff topic, each customer its own topic, after `POST /realtime` attaches its IoT policy.",
        "guests",
        _one_of(REALTIME_ACCESS),
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


@dataclass(frozen=True)
class Shop:
    capacity: int
    customer_timeout_seconds: int
    barista_timeout_seconds: int
    event_source: str
    time_zone: str = "UTC"


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
    sign_up_email: SignUpEmail
    api_gateway_account_owner: bool
    realtime_access: str = "guests"

    @property
    def signed_in_realtime(self) -> bool:
        return self.realtime_access == "signedIn"


@dataclass(frozen=True)
class SignUpEmail:
    """Who sends the sign-up codes: Cognito's built-in e-mail (empty) or an SES identity."""

    source_arn: str = ""
    sender: str = ""


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


def load_config(stack: str, values: Mapping[str, Any], region: str | None) -> StackConfig:
    """Validate one stack's raw settings (keys without the project prefix) into a `StackConfig`."""
    parsed = stack_settings.validate(PROJECT, stack, SETTINGS, values, region, _cross_field_problems)

    return StackConfig(
        stack=stack,
        region=str(region),
        shop=Shop(
            parsed["capacity"],
            parsed["customerTimeoutSeconds"],
            parsed["baristaTimeoutSeconds"],
            parsed["eventSource"],
            parsed["timeZone"],
        ),
        observability=Observability(
            parsed["logRetentionDays"],
            parsed["logLevel"],
            parsed["workflowLogLevel"],
            parsed["tracing"],
            parsed["alarmTopicArn"],
            alarm_email=parsed["alarmEmail"],
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
            sign_up_email=SignUpEmail(parsed["signUpEmailSourceArn"], parsed["signUpEmailFrom"]),
            api_gateway_account_owner=parsed["apiGatewayAccountOwner"],
            realtime_access=parsed["realtimeAccess"],
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
    if bool(v["signUpEmailSourceArn"]) != bool(v["signUpEmailFrom"]):
        problems.append(
            f"{PROJECT}:signUpEmailFrom = {v['signUpEmailFrom']!r} is not allowed with "
            f"signUpEmailSourceArn = {v['signUpEmailSourceArn']!r}; expected both set (SES sends as that "
            "sender) or both empty (Cognito's built-in e-mail)"
        )
    problems.extend(stack_settings.burst_below_rate(PROJECT, v))
    problems.extend(stack_settings.retained_without_deletion_protection(PROJECT, v))
    return problems


def from_pulumi() -> StackConfig:
    """Read the current stack's settings through the Pulumi runtime."""
    return load_config(*stack_settings.pulumi_values(PROJECT, SETTINGS))


def markdown_table() -> str:
    """The configuration reference (`docs/configuration.md`), generated from `SETTINGS`."""
    return stack_settings.markdown_table(SETTINGS)


if __name__ == "__main__":
    raise SystemExit(stack_settings.markdown_command(SETTINGS, "config"))
