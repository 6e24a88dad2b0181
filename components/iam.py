"""IAM policy documents built from statements whose resources are Outputs, plus the one list of `*` resources.

Every statement names the specific ARN it is about. A few AWS actions accept no resource but `*`; they are
listed here with the reason, and a test over every recorded policy allows `*` for exactly these actions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi

AWS_MANDATED_WILDCARDS: Mapping[str, str] = {
    "xray:PutTraceSegments": "X-Ray trace upload has no resource-level permissions",
    "xray:PutTelemetryRecords": "X-Ray telemetry upload has no resource-level permissions",
    "xray:GetSamplingRules": "X-Ray sampling lookups have no resource-level permissions",
    "xray:GetSamplingTargets": "X-Ray sampling lookups have no resource-level permissions",
    "logs:CreateLogDelivery": "Step Functions log delivery (vended logs) accepts only `*`",
    "logs:GetLogDelivery": "Step Functions log delivery (vended logs) accepts only `*`",
    "logs:UpdateLogDelivery": "Step Functions log delivery (vended logs) accepts only `*`",
    "logs:DeleteLogDelivery": "Step Functions log delivery (vended logs) accepts only `*`",
    "logs:ListLogDeliveries": "Step Functions log delivery (vended logs) accepts only `*`",
    "logs:PutResourcePolicy": "Step Functions log delivery (vended logs) accepts only `*`",
    "logs:DescribeResourcePolicies": "Step Functions log delivery (vended logs) accepts only `*`",
    "logs:DescribeLogGroups": "Step Functions log delivery (vended logs) accepts only `*`",
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html (no
    # resource type); a stream's event source mapping needs it (AWSLambdaDynamoDBExecutionRole grants it).
    "dynamodb:ListStreams": "DynamoDB stream listing has no resource-level permissions",
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsiot.html: AttachPolicy's
    # resource is the target (a certificate or thing group ARN); a Cognito identity id has no ARN.
    "iot:AttachPolicy": "Attaching an IoT policy to a Cognito identity names no resource ARN",
}

# Actions a service performs without naming its source, so a resource policy cannot condition them on
# aws:SourceArn (every other statement of a resource policy names the one source it admits).
UNCONDITIONED_SERVICE_ACTIONS: Mapping[str, str] = {
    "logs:CreateLogStream": "EventBridge creates a target log group's streams without naming the rule",
}

Statement = Mapping[str, Any]


def allow(
    actions: str | Sequence[str],
    resources: pulumi.Input[str] | Sequence[pulumi.Input[str]],
    condition: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One Allow statement; `resources` are ARNs (Outputs welcome)."""
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Action": [actions] if isinstance(actions, str) else list(actions),
        "Resource": list(resources) if isinstance(resources, (list, tuple)) else [resources],
    }
    if condition:
        statement["Condition"] = dict(condition)
    return statement


def allow_mandated_wildcard(actions: Sequence[str]) -> dict[str, Any]:
    """A `*` statement, refused for any action AWS does not force onto `*`."""
    unlisted = [action for action in actions if action not in AWS_MANDATED_WILDCARDS]
    if unlisted:
        raise ValueError(f"{unlisted} may not use Resource '*': name the specific ARN instead")
    return allow(actions, "*")


def tracing_statements(enabled: bool) -> list[dict[str, Any]]:
    return (
        [
            allow_mandated_wildcard(
                [
                    "xray:PutTraceSegments",
                    "xray:PutTelemetryRecords",
                    "xray:GetSamplingRules",
                    "xray:GetSamplingTargets",
                ]
            )
        ]
        if enabled
        else []
    )


def policy_document(statements: Sequence[Statement]) -> pulumi.Output[str]:
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": list(statements)})


def resource_policy(
    principal_service: str, actions: Sequence[str], resource: pulumi.Input[str], source_arn: pulumi.Input[str]
) -> pulumi.Output[str]:
    """A resource policy letting one AWS service act only on behalf of one source (e.g. *this* rule)."""
    return policy_document(
        [
            {
                "Effect": "Allow",
                "Principal": {"Service": principal_service},
                "Action": list(actions),
                "Resource": resource,
                "Condition": {"ArnEquals": {"aws:SourceArn": source_arn}},
            }
        ]
    )


def assume_role_policy(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        }
    )
