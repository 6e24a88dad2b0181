"""A rule on a bus with typed targets; each target gets retries, its own dead-letter queue and exactly the
permission it needs, scoped to this rule."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components import iam
from components.alarms import dead_letter_alarm
from components.naming import stack_scoped


@dataclass(frozen=True)
class DeliveryPolicy:
    retry_attempts: int
    max_event_age_seconds: int
    dead_letter_retention_seconds: int
    alarm_topic_arn: pulumi.Input[str] | None = None  # where a dead letter is announced


@dataclass(frozen=True)
class StateMachineTarget:
    arn: pulumi.Input[str]


@dataclass(frozen=True)
class FunctionTarget:
    arn: pulumi.Input[str]
    name: pulumi.Input[str]


@dataclass(frozen=True)
class QueueTarget:
    """The rule becomes the queue's only writer: the queue policy created here admits just this rule."""

    arn: pulumi.Input[str]
    url: pulumi.Input[str]


@dataclass(frozen=True)
class LogGroupTarget:
    arn: pulumi.Input[str]
    name: pulumi.Input[str]


Target = StateMachineTarget | FunctionTarget | QueueTarget | LogGroupTarget


class EventBusRule(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        *,
        bus_name: pulumi.Input[str],
        event_pattern: Mapping[str, Any],
        targets: Mapping[str, Target],
        delivery: DeliveryPolicy,
        description: str = "",
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("serverlesspresso:events:EventBusRule", name, None, opts)
        if not targets:
            raise ValueError(f"rule {name!r} needs at least one target")
        child = pulumi.ResourceOptions(parent=self)

        self.rule = aws.cloudwatch.EventRule(
            name,
            event_bus_name=bus_name,
            event_pattern=json.dumps(event_pattern, sort_keys=True),
            description=description,
            opts=child,
        )
        self.arn = self.rule.arn
        self.name = self.rule.name
        self.dead_letter_queues: dict[str, aws.sqs.Queue] = {}

        for key, target in targets.items():
            target_name = f"{name}-{key}"
            dlq = aws.sqs.Queue(
                f"{target_name}-dlq",
                sqs_managed_sse_enabled=True,
                message_retention_seconds=delivery.dead_letter_retention_seconds,
                opts=child,
            )
            aws.sqs.QueuePolicy(
                f"{target_name}-dlq-policy",
                queue_url=dlq.url,
                policy=iam.resource_policy(
                    "events.amazonaws.com", ["sqs:SendMessage"], dlq.arn, self.rule.arn
                ),
                opts=child,
            )
            self.dead_letter_queues[key] = dlq
            if delivery.alarm_topic_arn is not None:
                dead_letter_alarm(f"{target_name}-dlq", dlq, delivery.alarm_topic_arn, self)
            grant = self._grant(target_name, target, child)
            aws.cloudwatch.EventTarget(
                target_name,
                rule=self.rule.name,
                event_bus_name=bus_name,
                arn=target.arn,
                role_arn=grant.arn if isinstance(grant, aws.iam.Role) else None,
                retry_policy={
                    "maximum_retry_attempts": delivery.retry_attempts,
                    "maximum_event_age_in_seconds": delivery.max_event_age_seconds,
                },
                dead_letter_config={"arn": dlq.arn},
                opts=pulumi.ResourceOptions(parent=self, depends_on=[grant]),
            )
        self.register_outputs({"arn": self.arn, "name": self.name})

    def _grant(self, target_name: str, target: Target, child: pulumi.ResourceOptions) -> pulumi.Resource:
        """The one permission this target needs, and nothing broader."""
        if isinstance(target, StateMachineTarget):
            role = aws.iam.Role(
                f"{target_name}-role",
                assume_role_policy=iam.assume_role_policy("events.amazonaws.com"),
                opts=child,
            )
            aws.iam.RolePolicy(
                f"{target_name}-policy",
                role=role.id,
                policy=iam.policy_document([iam.allow("states:StartExecution", target.arn)]),
                opts=child,
            )
            return role
        if isinstance(target, FunctionTarget):
            return aws.lambda_.Permission(
                f"{target_name}-permission",
                action="lambda:InvokeFunction",
                function=target.name,
                principal="events.amazonaws.com",
                source_arn=self.rule.arn,
                opts=child,
            )
        if isinstance(target, QueueTarget):
            return aws.sqs.QueuePolicy(
                f"{target_name}-policy",
                queue_url=target.url,
                policy=iam.resource_policy(
                    "events.amazonaws.com", ["sqs:SendMessage"], target.arn, self.rule.arn
                ),
                opts=child,
            )
        if isinstance(target, LogGroupTarget):
            return aws.cloudwatch.LogResourcePolicy(
                f"{target_name}-policy",
                policy_name=stack_scoped(target_name, limit=255),
                policy_document=pulumi.Output.json_dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {
                                    "Service": ["events.amazonaws.com", "delivery.logs.amazonaws.com"]
                                },
                                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                                "Resource": pulumi.Output.from_input(target.arn).apply(
                                    lambda arn: f"{arn}:*"
                                ),
                                "Condition": {"ArnEquals": {"aws:SourceArn": self.rule.arn}},
                            }
                        ],
                    }
                ),
                opts=child,
            )
        raise TypeError(f"unsupported target {target!r}")
