"""Drink sales, buffered: a rule → an encrypted queue (with DLQ) → one consumer that counts each sale once
into a daily aggregate table and/or CloudWatch (EMF), a dashboard, alarms, and a load-test function."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

import config
from components import iam
from components.alarms import dead_letter_alarm
from components.data_stores import MENU, table
from components.event_bus_rule import DeliveryPolicy, EventBusRule, QueueTarget
from components.lambda_function import FunctionSettings, LambdaFunction
from components.naming import stack_scoped

# Every drink of the seeded menu, then the total: a drink sold but not shown is a sale nobody sees.
DASHBOARD_DRINKS = (*(drink for drink, _ in MENU), "Total Orders")
# The consumer's EMF metric (functions/publish_metrics/aggregates.py). Not `Drink`: in EMF a metric and a
# dimension share one JSON object, so a metric named like its `Drink` dimension would overwrite it.
METRIC_NAME = "DrinkOrders"
DIMENSION = "Drink"


def dashboard_body(namespace: str, region: str, drinks: Sequence[str] = DASHBOARD_DRINKS) -> str:
    """One single-value widget: the sum of `Drink` per drink over the dashboard's time range."""
    return json.dumps(
        {
            "widgets": [
                {
                    "type": "metric",
                    "x": 0,
                    "y": 0,
                    "width": 24,
                    "height": 6,
                    "properties": {
                        "title": "Drinks sold",
                        "view": "singleValue",
                        "region": region,
                        "stat": "Sum",
                        "period": 300,
                        "setPeriodToTimeRange": True,
                        "sparkline": False,
                        "metrics": [[namespace, METRIC_NAME, DIMENSION, drink] for drink in drinks],
                    },
                }
            ]
        },
        sort_keys=True,
    )


class MetricsPipeline(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        *,
        bus_name: pulumi.Input[str],
        bus_arn: pulumi.Input[str],
        event_pattern: Mapping[str, Any],
        event_source: str,
        settings: config.Metrics,
        protection: config.DataProtection,
        function_settings: FunctionSettings,
        delivery: DeliveryPolicy,
        functions_dir: Path,
        region: str,
        alarm_topic_arn: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("serverlesspresso:metrics:MetricsPipeline", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        provisioned = settings.table_billing_mode == "PROVISIONED"

        # Daily aggregates, and the marker of every counted event (so a redelivery never counts twice).
        self.table = table(
            f"{name}-table",
            protection=protection,
            parent=self,
            attributes={"PK": "S", "SK": "S"},
            hash_key="PK",
            range_key="SK",
            billing_mode=settings.table_billing_mode,
            capacity=(settings.table_read_capacity, settings.table_write_capacity) if provisioned else None,
        )

        self.dead_letter_queue = aws.sqs.Queue(
            f"{name}-dlq",
            sqs_managed_sse_enabled=True,
            message_retention_seconds=delivery.dead_letter_retention_seconds,
            opts=child,
        )
        self.queue = aws.sqs.Queue(
            f"{name}-queue",
            sqs_managed_sse_enabled=True,
            visibility_timeout_seconds=settings.queue_visibility_timeout_seconds,
            receive_wait_time_seconds=5,
            redrive_policy=pulumi.Output.json_dumps(
                {
                    "deadLetterTargetArn": self.dead_letter_queue.arn,
                    "maxReceiveCount": settings.max_receive_count,
                }
            ),
            opts=child,
        )
        self.rule = EventBusRule(
            f"{name}-rule",
            bus_name=bus_name,
            event_pattern=event_pattern,
            targets={"queue": QueueTarget(arn=self.queue.arn, url=self.queue.url)},
            delivery=delivery,
            description="Sales to the metrics queue",
            opts=child,
        )

        self.consumer = LambdaFunction(
            f"{name}-consumer",
            code_dir=functions_dir / "publish_metrics",
            settings=function_settings,
            environment={
                "METRICS_TABLE_NAME": self.table.name,
                "METRICS_SINKS": ",".join(settings.sinks),
                "POWERTOOLS_METRICS_NAMESPACE": settings.namespace,
            },
            statements=[
                iam.allow(
                    [
                        "sqs:ReceiveMessage",
                        "sqs:DeleteMessage",
                        "sqs:ChangeMessageVisibility",
                        "sqs:GetQueueAttributes",
                    ],
                    self.queue.arn,
                ),
                iam.allow(["dynamodb:PutItem", "dynamodb:UpdateItem"], self.table.arn),
            ],
            memory_mb=512,
            timeout_seconds=settings.consumer_timeout_seconds,
            reserved_concurrency=settings.reserved_concurrency,
            description="Counts drink sales from the metrics queue",
            opts=child,
        )
        # Lambda polls with as many batches at once as the mapping allows, whatever the function reserves:
        # capped at the reserved concurrency, no batch is ever throttled (a throttled batch spends its
        # messages' receives and could reach the dead-letter queue without ever being counted).
        self.event_source_mapping = aws.lambda_.EventSourceMapping(
            f"{name}-consumer-source",
            event_source_arn=self.queue.arn,
            function_name=self.consumer.arn,
            batch_size=settings.batch_size,
            maximum_batching_window_in_seconds=settings.batch_window_seconds,
            function_response_types=["ReportBatchItemFailures"],
            scaling_config={"maximum_concurrency": settings.reserved_concurrency},
            opts=child,
        )

        self.load_test = LambdaFunction(
            f"{name}-load-test",
            code_dir=functions_dir / "events_load_test",
            settings=function_settings,
            environment={"EVENT_BUS_NAME": bus_name, "EVENT_SOURCE": event_source},
            statements=[iam.allow("events:PutEvents", bus_arn)],
            timeout_seconds=120,
            description="Sends synthetic sales to the bus (manual invoke)",
            opts=child,
        )

        self.dashboard = None
        if "cloudwatch" in settings.sinks:
            self.dashboard = aws.cloudwatch.Dashboard(
                f"{name}-dashboard",
                dashboard_name=stack_scoped("drinks", limit=255),
                dashboard_body=dashboard_body(settings.namespace, region),
                opts=child,
            )

        # The rule's own dead-letter queue is alarmed by EventBusRule (delivery.alarm_topic_arn), the
        # consumer's errors by LambdaFunction (function_settings.alarm_topic_arn).
        dead_letter_alarm(f"{name}-dlq", self.dead_letter_queue, alarm_topic_arn, self)

        self.register_outputs(
            {
                "table": self.table.name,
                "queue": self.queue.url,
                "consumer": self.consumer.name,
                "loadTest": self.load_test.name,
                "dashboard": self.dashboard.dashboard_name if self.dashboard else None,
            }
        )
