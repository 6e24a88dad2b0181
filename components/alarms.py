"""Alarms that tell a person something needs them: a dead letter is an order or a sale waiting for help."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_aws as aws


def above_zero_alarm(
    name: str,
    *,
    description: str,
    namespace: str,
    metric_name: str,
    dimensions: Mapping[str, pulumi.Input[str]],
    statistic: str,
    topic_arn: pulumi.Input[str],
    parent: pulumi.Resource,
) -> aws.cloudwatch.MetricAlarm:
    """Fires in the first minute the metric is above zero; no data means nothing went wrong."""
    return aws.cloudwatch.MetricAlarm(
        name,
        alarm_description=description,
        namespace=namespace,
        metric_name=metric_name,
        dimensions=dict(dimensions),
        statistic=statistic,
        period=60,
        evaluation_periods=1,
        threshold=0,
        comparison_operator="GreaterThanThreshold",
        treat_missing_data="notBreaching",
        alarm_actions=[topic_arn],
        opts=pulumi.ResourceOptions(parent=parent),
    )


def dead_letter_alarm(
    name: str, queue: aws.sqs.Queue, topic_arn: pulumi.Input[str], parent: pulumi.Resource
) -> aws.cloudwatch.MetricAlarm:
    """Fires as soon as `queue` holds a message: inspect it, fix the cause, redrive it."""
    return above_zero_alarm(
        f"{name}-not-empty",
        description="A message is waiting in a dead-letter queue: inspect it and redrive it",
        namespace="AWS/SQS",
        metric_name="ApproximateNumberOfMessagesVisible",
        dimensions={"QueueName": queue.name},
        statistic="Maximum",
        topic_arn=topic_arn,
        parent=parent,
    )
