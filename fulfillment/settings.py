"""The order fulfillment's typed stack configuration, built with the shop's machinery (`stack_settings`).

`SETTINGS` is this project's contract: `fulfillment/Pulumi.yaml` declares the same keys (a test keeps them
equal) and the table in `docs/fulfillment.md` is generated from it (`python -m fulfillment.settings
--markdown`). The partner's API key is not a setting: it is the secret `usOrdersApiKey`, read with
`require_secret` and never written to plain config, outputs or logs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import stack_settings
from stack_settings import (
    LOG_LEVELS,
    LOG_RETENTION_DAYS,
    WORKFLOW_LOG_LEVELS,
    DataProtection,
    Delivery,
    Observability,
    Setting,
    between,
    cors_origin,
    event_source,
    one_of,
    optional_arn,
    optional_email,
    text,
)

if TYPE_CHECKING:
    import pulumi

PROJECT = "fulfillment"
API_KEY_SECRET = "usOrdersApiKey"
WORKFLOW_TYPES = ("STANDARD", "EXPRESS")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}")


def _partner_endpoint(value: str) -> str | None:
    parts = urlsplit(value)
    loopback = parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS  # offline runs only
    ok = (parts.scheme == "https" or loopback) and bool(parts.hostname) and not parts.fragment
    return None if ok else "an https:// URL (http:// only on 127.0.0.1 or localhost, for offline runs)"


def _header_name(value: str) -> str | None:
    return None if HEADER_NAME.fullmatch(value) else "an HTTP header name such as x-api-key"


SETTINGS: tuple[Setting, ...] = (
    Setting("owner", "string", "Team or person answerable for the stack (tag `owner`).", check=text),
    Setting("costCenter", "string", "Cost centre charged for the stack (tag `cost-center`).", check=text),
    Setting("eventSource", "string", "`source` of every order event.", "com.aws.orders", event_source),
    Setting(
        "usOrdersEndpoint",
        "string",
        "The partner's HTTP endpoint that receives every US order (`POST`, the event as JSON).",
        check=_partner_endpoint,
    ),
    Setting(
        "usOrdersApiKeyHeader",
        "string",
        "Header that carries the partner's API key (the key is the secret `usOrdersApiKey`).",
        "x-api-key",
        _header_name,
    ),
    Setting(
        "workflowType",
        "string",
        "Type of the EU order workflow: `STANDARD` or `EXPRESS`.",
        "STANDARD",
        one_of(WORKFLOW_TYPES),
    ),
    Setting("logRetentionDays", "integer", "Retention of every log group.", 14, one_of(LOG_RETENTION_DAYS)),
    Setting("logLevel", "string", "Log level of the functions.", "INFO", one_of(LOG_LEVELS)),
    Setting(
        "workflowLogLevel",
        "string",
        "Log level of the workflow's execution logs.",
        "ERROR",
        one_of(WORKFLOW_LOG_LEVELS),
    ),
    Setting("tracing", "boolean", "X-Ray tracing for functions and the workflow.", False),
    Setting(
        "alarmTopicArn",
        "string",
        "SNS topic of every alarm (dead letters, errors, failed runs); empty: the stack creates one.",
        "",
        optional_arn,
    ),
    Setting(
        "alarmEmail",
        "string",
        "E-mail address subscribed to the alarm topic (it must confirm the subscription); empty: none.",
        "",
        optional_email,
    ),
    Setting("pointInTimeRecovery", "boolean", "Point-in-time recovery on the OrderDetails table.", False),
    Setting(
        "deletionProtection", "boolean", "DynamoDB deletion protection on the OrderDetails table.", False
    ),
    Setting(
        "retainData",
        "boolean",
        "The table is `protect`ed and kept on `pulumi destroy` (retain_on_delete).",
        False,
    ),
    Setting(
        "ruleRetryAttempts",
        "integer",
        "EventBridge delivery retries per target (the partner included) before the DLQ.",
        185,
        between(0, 185),
    ),
    Setting(
        "ruleMaxEventAgeSeconds",
        "integer",
        "How long EventBridge keeps retrying a target.",
        86400,
        between(60, 86400),
    ),
    Setting(
        "asyncRetryAttempts",
        "integer",
        "Lambda retries of a failed asynchronous invocation.",
        2,
        between(0, 2),
    ),
    Setting(
        "deadLetterRetentionDays", "integer", "How long dead-letter queues keep messages.", 14, between(1, 14)
    ),
    Setting(
        "apiThrottleRateLimit",
        "integer",
        "Steady requests per second the Producer API accepts.",
        50,
        between(1, 10000),
    ),
    Setting(
        "apiThrottleBurstLimit",
        "integer",
        "Requests the Producer API accepts in a burst.",
        100,
        between(1, 5000),
    ),
    Setting(
        "corsAllowOrigin",
        "string",
        "`Access-Control-Allow-Origin` of the Producer API's answers.",
        "*",
        cors_origin,
    ),
    stack_settings.API_GATEWAY_ACCOUNT_OWNER,
)
SETTINGS_BY_KEY = {setting.key: setting for setting in SETTINGS}


@dataclass(frozen=True)
class Partner:
    """Where US orders go: the endpoint and the header of its API key (the key itself is a secret)."""

    endpoint: str
    api_key_header: str


@dataclass(frozen=True)
class ProducerApi:
    throttle_rate_limit: int
    throttle_burst_limit: int
    cors_allow_origin: str
    api_gateway_account_owner: bool


@dataclass(frozen=True)
class FulfillmentConfig:
    stack: str
    region: str
    event_source: str
    workflow_type: str
    partner: Partner
    api: ProducerApi
    observability: Observability
    data_protection: DataProtection
    delivery: Delivery
    tags: Mapping[str, str]


def _cross_field_problems(v: Mapping[str, Any]) -> list[str]:
    return [
        *stack_settings.burst_below_rate(PROJECT, v),
        *stack_settings.retained_without_deletion_protection(PROJECT, v),
    ]


def load_config(stack: str, values: Mapping[str, Any], region: str | None) -> FulfillmentConfig:
    """Validate one stack's raw settings (keys without the project prefix) into a `FulfillmentConfig`."""
    v = stack_settings.validate(PROJECT, stack, SETTINGS, values, region, _cross_field_problems)
    return FulfillmentConfig(
        stack=stack,
        region=str(region),
        event_source=v["eventSource"],
        workflow_type=v["workflowType"],
        partner=Partner(v["usOrdersEndpoint"], v["usOrdersApiKeyHeader"]),
        api=ProducerApi(
            v["apiThrottleRateLimit"],
            v["apiThrottleBurstLimit"],
            v["corsAllowOrigin"],
            v["apiGatewayAccountOwner"],
        ),
        observability=Observability(
            v["logRetentionDays"],
            v["logLevel"],
            v["workflowLogLevel"],
            v["tracing"],
            v["alarmTopicArn"],
            alarm_email=v["alarmEmail"],
        ),
        data_protection=DataProtection(v["pointInTimeRecovery"], v["deletionProtection"], v["retainData"]),
        delivery=Delivery(
            v["ruleRetryAttempts"],
            v["ruleMaxEventAgeSeconds"],
            v["asyncRetryAttempts"],
            v["deadLetterRetentionDays"] * 86400,
        ),
        tags={"owner": v["owner"], "cost-center": v["costCenter"]},
    )


def from_pulumi() -> FulfillmentConfig:
    """Read the current stack's settings through the Pulumi runtime."""
    return load_config(*stack_settings.pulumi_values(PROJECT, SETTINGS))


def partner_api_key() -> pulumi.Output[str]:
    """The partner's API key as a secret Output (`pulumi config set --secret usOrdersApiKey <key>`)."""
    import pulumi

    return pulumi.Config(PROJECT).require_secret(API_KEY_SECRET)


def markdown_table() -> str:
    """This project's configuration reference (`docs/fulfillment.md`), generated from `SETTINGS`."""
    return stack_settings.markdown_table(SETTINGS)


if __name__ == "__main__":
    raise SystemExit(stack_settings.markdown_command(SETTINGS, "fulfillment.settings"))
