"""Serverlesspresso: a bus; the shop's data; the order workflows and their functions; the metrics pipeline."""

from pathlib import Path

import pulumi
import pulumi_aws as aws

import config
from components.data_stores import DataStores
from components.event_backbone import EventBackbone
from components.event_bus_rule import DeliveryPolicy
from components.lambda_function import FunctionSettings
from components.powertools_layer import PowertoolsLayer

ROOT = Path(__file__).resolve().parent
cfg = config.from_pulumi()

provider = aws.Provider(
    "aws",
    region=cfg.region,
    default_tags={"tags": {"project": config.PROJECT, "stack": cfg.stack, **cfg.tags}},
)
in_stack = pulumi.ResourceOptions(provider=provider)

delivery = DeliveryPolicy(
    retry_attempts=cfg.delivery.rule_retry_attempts,
    max_event_age_seconds=cfg.delivery.rule_max_event_age_seconds,
    dead_letter_retention_seconds=cfg.delivery.dead_letter_retention_seconds,
)
powertools = PowertoolsLayer("powertools", opts=in_stack)
functions = FunctionSettings(
    log_retention_days=cfg.observability.log_retention_days,
    log_level=cfg.observability.log_level,
    tracing=cfg.observability.tracing,
    async_retry_attempts=cfg.delivery.async_retry_attempts,
    dead_letter_retention_seconds=cfg.delivery.dead_letter_retention_seconds,
    layers=[powertools.arn],
)

events = EventBackbone(
    "shop-events",
    event_source=cfg.shop.event_source,
    log_retention_days=cfg.observability.log_retention_days,
    delivery=delivery,
    opts=in_stack,
)
data = DataStores("shop-data", protection=cfg.data_protection, opts=in_stack)

pulumi.export("region", cfg.region)
pulumi.export("eventBusName", events.bus_name)
pulumi.export("eventBusArn", events.bus_arn)
pulumi.export("allEventsLogGroup", events.log_group.name)
pulumi.export("orderTableName", data.order_table.name)
pulumi.export("configTableName", data.config_table.name)
pulumi.export("countingTableName", data.counting_table.name)
