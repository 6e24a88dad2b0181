"""What every stack of both projects starts with: the tagged AWS provider every resource goes through, the
one alarm topic, the delivery policy of every asynchronous hop, and the layers and settings every function
shares. Not a component: these resources keep the top-level names both programs have always given them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from components.alarm_topic import AlarmTopic
from components.event_bus_rule import DeliveryPolicy
from components.lambda_function import FunctionSettings
from components.python_layer import POWERTOOLS_PACKAGES, PythonLayer, installed

COMMON_LAYER_SOURCE = Path(__file__).resolve().parent.parent / "layers" / "shop_common.py"


@dataclass(frozen=True)
class StackBase:
    in_stack: pulumi.ResourceOptions  # every resource of the stack goes through its tagged provider
    alarm_topic_arn: pulumi.Input[str]
    delivery: DeliveryPolicy
    function_settings: FunctionSettings


def stack_base(project: str, cfg: Any, *, common_layer: str, tags: Mapping[str, str]) -> StackBase:
    """`cfg` is a project's typed config: region, stack, observability and delivery settings."""
    provider = aws.Provider(
        "aws", region=cfg.region, default_tags={"tags": {"project": project, "stack": cfg.stack, **tags}}
    )
    in_stack = pulumi.ResourceOptions(provider=provider)
    # Every alarm (a dead letter, a function error, a failed run) goes to one topic that reaches someone.
    alarm_topic_arn = AlarmTopic(
        "alarms",
        existing_topic_arn=cfg.observability.alarm_topic_arn,
        email=cfg.observability.alarm_email,
        opts=in_stack,
    ).arn
    delivery = DeliveryPolicy(
        retry_attempts=cfg.delivery.rule_retry_attempts,
        max_event_age_seconds=cfg.delivery.rule_max_event_age_seconds,
        dead_letter_retention_seconds=cfg.delivery.dead_letter_retention_seconds,
        alarm_topic_arn=alarm_topic_arn,
    )
    # Powertools (the pinned version the tests use) and the shared module, each as a layer.
    powertools = PythonLayer("powertools", sources=[installed(m) for m in POWERTOOLS_PACKAGES], opts=in_stack)
    common = PythonLayer(common_layer, sources=[COMMON_LAYER_SOURCE], opts=in_stack)
    function_settings = FunctionSettings(
        log_retention_days=cfg.observability.log_retention_days,
        log_level=cfg.observability.log_level,
        tracing=cfg.observability.tracing,
        async_retry_attempts=cfg.delivery.async_retry_attempts,
        dead_letter_retention_seconds=cfg.delivery.dead_letter_retention_seconds,
        layers=[powertools.arn, common.arn],
        alarm_topic_arn=alarm_topic_arn,
    )
    return StackBase(in_stack, alarm_topic_arn, delivery, function_settings)
