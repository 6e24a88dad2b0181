"""Alarms that tell a person something needs them: a dead letter is an order or a sale waiting for help."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws


def dead_letter_alarm(
    name: str, queue: aws.sqs.Queue, topic_arn: pulumi.Input[str], parent: pulumi.Resource
) -> aws.cloudwatch.MetricAlarm:
    """Fires as soon as `queue` holds a message: inspect it, fix the cause, redrive it."""
    return aws.cloudwatch.MetricAlarm(
        f"{name}-not-empty",
        alarm_description="A message is waiting in a dead-letter queue: inspect it and redrive it",
        namespace="AWS/SQS",
        metric_name="ApproximateNumberOfMessagesVisible",
        dimensions={"QueueName": queue.name},
        statistic="Maximum",
        period=60,
        evaluation_periods=1,
        threshold=0,
        comparison_operator="GreaterThanThreshold",
        treat_missing_data="notBreaching",
        alarm_actions=[topic_arn],
        opts=pulumi.ResourceOptions(parent=parent),
    )
