"""A rule on a bus with typed targets; each target gets retries, its own dead-letter queue and exactly the
permission it needs, scoped to this rule. An API destination target (a partner's HTTP endpoint) also gets
its connection and destination."""

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


@dataclass(frozen=True)
class ApiDestinationTarget:
    """An HTTP endpoint outside AWS: EventBridge sends it the event (or the target's input) as a JSON body,
    with an API key in a header. The rule creates the connection (EventBridge keeps the key in Secrets
    Manager), the destination and a role that may invoke only that destination."""

    endpoint: pulumi.Input[str]
    api_key_header: pulumi.Input[str]
    api_key: pulumi.Input[str]  # from a config secret; the rule keeps it secret whatever it is given
    http_method: str = "POST"
    rate_limit_per_second: int = 300
    header_parameters: Mapping[str, pulumi.Input[str]] | None = None  # sent with every call
    query_parameters: Mapping[str, pulumi.Input[str]] | None = None


Target = StateMachineTarget | FunctionTarget | QueueTarget | LogGroupTarget | ApiDestinationTarget
# Targets EventBridge calls with a role of the rule's own: the one action that role may take on the target.
_ROLE_ACTIONS = {
    StateMachineTarget: "states:StartExecution",
    ApiDestinationTarget: "events:InvokeApiDestination",
}


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
            target_arn = (
                self._api_destination(target_name, target, child).arn
                if isinstance(target, ApiDestinationTarget)
                else target.arn
            )
            grant = self._grant(target_name, target, target_arn, child)
            aws.cloudwatch.EventTarget(
                target_name,
                rule=self.rule.name,
                event_bus_name=bus_name,
                arn=target_arn,
                role_arn=grant.arn if isinstance(grant, aws.iam.Role) else None,
                http_target=_http_target(target),
                retry_policy={
                    "maximum_retry_attempts": delivery.retry_attempts,
                    "maximum_event_age_in_seconds": delivery.max_event_age_seconds,
                },
                dead_letter_config={"arn": dlq.arn},
                opts=pulumi.ResourceOptions(parent=self, depends_on=[grant]),
            )
        self.register_outputs({"arn": self.arn, "name": self.name})

    def _api_destination(
        self, target_name: str, target: ApiDestinationTarget, child: pulumi.ResourceOptions
    ) -> aws.cloudwatch.EventApiDestination:
        connection = aws.cloudwatch.EventConnection(
            f"{target_name}-connection",
            authorization_type="API_KEY",
            auth_parameters={
                "api_key": {"key": target.api_key_header, "value": pulumi.Output.secret(target.api_key)}
            },
            description=f"API key of the {target_name} endpoint",
            opts=child,
        )
        return aws.cloudwatch.EventApiDestination(
            f"{target_name}-destination",
            connection_arn=connection.arn,
            invocation_endpoint=target.endpoint,
            http_method=target.http_method,
            invocation_rate_limit_per_second=target.rate_limit_per_second,
            opts=child,
        )

    def _grant(
        self,
        target_name: str,
        target: Target,
        target_arn: pulumi.Input[str],
        child: pulumi.ResourceOptions,
    ) -> pulumi.Resource:
        """The one permission this target needs, and nothing broader."""
        if type(target) in _ROLE_ACTIONS:
            role = aws.iam.Role(
                f"{target_name}-role",
                assume_role_policy=iam.assume_role_policy("events.amazonaws.com"),
                opts=child,
            )
            aws.iam.RolePolicy(
                f"{target_name}-policy",
                role=role.id,
                policy=iam.policy_document([iam.allow(_ROLE_ACTIONS[type(target)], target_arn)]),
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
            # EventBridge creates the group's streams without naming a rule, so a SourceArn condition on
            # CreateLogStream refuses every stream and the events go to the dead-letter queue; the rule's
            # condition belongs on PutLogEvents alone (AWS's own EventBridge → Logs sample, fixed likewise:
            # https://github.com/aws-samples/serverless-patterns/pull/618).
            streams = pulumi.Output.from_input(target.arn).apply(lambda arn: f"{arn}:*")
            principal = {"Service": ["events.amazonaws.com", "delivery.logs.amazonaws.com"]}
            return aws.cloudwatch.LogResourcePolicy(
                f"{target_name}-policy",
                policy_name=stack_scoped(target_name, limit=255),
                policy_document=pulumi.Output.json_dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": principal,
                                "Action": ["logs:CreateLogStream"],
                                "Resource": streams,
                            },
                            {
                                "Effect": "Allow",
                                "Principal": principal,
                                "Action": ["logs:PutLogEvents"],
                                "Resource": streams,
                                "Condition": {"ArnEquals": {"aws:SourceArn": self.rule.arn}},
                            },
                        ],
                    }
                ),
                opts=child,
            )
        raise TypeError(f"unsupported target {target!r}")


def _http_target(target: Target) -> dict[str, Any] | None:
    """The HTTP parameters an API destination target adds to every call (None for other targets)."""
    if not isinstance(target, ApiDestinationTarget):
        return None
    parameters = {
        "header_parameters": dict(target.header_parameters or {}),
        "query_string_parameters": dict(target.query_parameters or {}),
    }
    return {key: value for key, value in parameters.items() if value} or None
