"""Alarms that tell a person something needs them: a dead letter is an order or a sale waiting for help, a
function error or a failed workflow run is a customer whose order went wrong."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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


def function_error_alarm(
    name: str, function_name: pulumi.Input[str], topic_arn: pulumi.Input[str], parent: pulumi.Resource
) -> aws.cloudwatch.MetricAlarm:
    """Fires in the first minute a function fails (a retry may still save the event; look at the logs)."""
    return above_zero_alarm(
        f"{name}-errors",
        description="A function failed: its event is being retried or is on its way to a dead-letter queue",
        namespace="AWS/Lambda",
        metric_name="Errors",
        dimensions={"FunctionName": function_name},
        statistic="Sum",
        topic_arn=topic_arn,
        parent=parent,
    )


# Where the metric filters of workflows whose failures include answers put their unexpected failures.
WORKFLOW_FAILURES_NAMESPACE = "Serverlesspresso/Workflows"


def unexpected_failure_pattern(answers: Sequence[str]) -> str:
    """A CloudWatch Logs filter for failed runs whose error is not one of the workflow's ``answers``."""
    excluded = "".join(f' && ($.details.error != "{error}")' for error in answers)
    return f'{{ ($.type = "ExecutionFailed"){excluded} }}'


def workflow_alarms(
    name: str,
    *,
    state_machine_arn: pulumi.Input[str],
    log_group_name: pulumi.Input[str],
    failure_metric_name: str,
    answers: Sequence[str],
    topic_arn: pulumi.Input[str],
    parent: pulumi.Resource,
) -> list[aws.cloudwatch.MetricAlarm]:
    """A failed run and a timed-out run each raise an alarm. A workflow whose failures include ``answers``
    (the OrderManager refusing an invalid drink is an answer, not a fault) counts only its other failures,
    from its execution log (every log level it may have records ExecutionFailed)."""
    by_machine = {"StateMachineArn": state_machine_arn}
    alarms = [
        above_zero_alarm(
            f"{name}-timed-out",
            description="A workflow run timed out",
            namespace="AWS/States",
            metric_name="ExecutionsTimedOut",
            dimensions=by_machine,
            statistic="Sum",
            topic_arn=topic_arn,
            parent=parent,
        )
    ]
    if not answers:
        alarms.append(
            above_zero_alarm(
                f"{name}-failed",
                description="A workflow run failed",
                namespace="AWS/States",
                metric_name="ExecutionsFailed",
                dimensions=by_machine,
                statistic="Sum",
                topic_arn=topic_arn,
                parent=parent,
            )
        )
        return alarms
    aws.cloudwatch.LogMetricFilter(
        f"{name}-unexpected-failures",
        log_group_name=log_group_name,
        pattern=unexpected_failure_pattern(answers),
        metric_transformation={
            "name": failure_metric_name,
            "namespace": WORKFLOW_FAILURES_NAMESPACE,
            "value": "1",
            "default_value": "0",
        },
        opts=pulumi.ResourceOptions(parent=parent),
    )
    alarms.append(
        above_zero_alarm(
            f"{name}-failed",
            description="A workflow run failed with an error that is not an answer to the caller",
            namespace=WORKFLOW_FAILURES_NAMESPACE,
            metric_name=failure_metric_name,
            dimensions={},
            statistic="Sum",
            topic_arn=topic_arn,
            parent=parent,
        )
    )
    return alarms
