"""The shop's event bus, and the rule that writes every event of the shop to a log group."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.event_bus_rule import DeliveryPolicy, EventBusRule, LogGroupTarget
from components.naming import stack_scoped


class EventBackbone(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        *,
        event_source: str,
        log_retention_days: int,
        delivery: DeliveryPolicy,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("serverlesspresso:events:EventBackbone", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        self.bus = aws.cloudwatch.EventBus(name, opts=child)
        # EventBridge writes only to log groups whose name starts with /aws/events/.
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-all-events",
            name_prefix=f"/aws/events/{stack_scoped('all-events', limit=400)}-",
            retention_in_days=log_retention_days,
            opts=child,
        )
        self.log_all = EventBusRule(
            f"{name}-log-all",
            bus_name=self.bus.name,
            event_pattern={"source": [event_source]},
            targets={"logs": LogGroupTarget(arn=self.log_group.arn, name=self.log_group.name)},
            delivery=delivery,
            description="Every event of the shop, to the all-events log group",
            opts=child,
        )

        self.bus_name = self.bus.name
        self.bus_arn = self.bus.arn
        self.register_outputs(
            {"busName": self.bus_name, "busArn": self.bus_arn, "logGroup": self.log_group.name}
        )
