"""A Step Functions workflow from an `asl/` definition, with its own role, log group and tracing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pulumi
import pulumi_aws as aws

from components import iam
from components.alarms import workflow_alarms
from components.asl import PlaceholderError, placeholders, render_definition
from components.naming import stack_scoped

WORKFLOW_TYPES = ("STANDARD", "EXPRESS")
# Step Functions delivers execution logs through CloudWatch's vended-log APIs, which accept only `*`.
LOG_DELIVERY_ACTIONS = [
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
]


class OrderWorkflow(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        *,
        definition_file: Path,
        workflow_type: str,
        substitutions: Mapping[str, pulumi.Input[str] | int],
        statements: Sequence[iam.Statement],
        actions_on_itself: Sequence[str] = (),
        log_retention_days: int,
        log_level: str,
        tracing: bool,
        alarm_topic_arn: pulumi.Input[str] | None = None,
        answers: Sequence[str] = (),
        opts: pulumi.ResourceOptions | None = None,
    ):
        """``answers``: the errors a run fails with to answer its caller (an invalid drink), not a fault;
        they raise no alarm."""
        super().__init__("serverlesspresso:orders:OrderWorkflow", name, None, opts)
        if workflow_type not in WORKFLOW_TYPES:
            raise ValueError(f"workflow {name!r}: type {workflow_type!r} is not one of {WORKFLOW_TYPES}")
        template = definition_file.read_text()
        wanted = placeholders(template)
        if wanted != set(substitutions):
            # Fail while the program runs, before anything is sent to AWS.
            raise PlaceholderError(wanted - set(substitutions), set(substitutions) - wanted)
        child = pulumi.ResourceOptions(parent=self)

        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name_prefix=f"/aws/vendedlogs/states/{stack_scoped(name, limit=400)}-",
            retention_in_days=log_retention_days,
            opts=child,
        )
        self.role = aws.iam.Role(
            f"{name}-role", assume_role_policy=iam.assume_role_policy("states.amazonaws.com"), opts=child
        )
        policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=self.role.id,
            policy=iam.policy_document(
                [
                    *statements,
                    iam.allow_mandated_wildcard(LOG_DELIVERY_ACTIONS),
                    *iam.tracing_statements(tracing),
                ]
            ),
            opts=child,
        )

        self.definition = pulumi.Output.all(**substitutions).apply(
            lambda values: render_definition(template, values)
        )
        self.state_machine = aws.sfn.StateMachine(
            name,
            type=workflow_type,
            role_arn=self.role.arn,
            definition=self.definition,
            logging_configuration={
                "log_destination": self.log_group.arn.apply(lambda arn: f"{arn}:*"),
                "include_execution_data": True,
                "level": log_level,
            },
            tracing_configuration={"enabled": tracing},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        self.arn = self.state_machine.arn
        self.name = self.state_machine.name
        if actions_on_itself:
            # A separate policy, created after the machine: its ARN cannot be in the machine's own inputs.
            aws.iam.RolePolicy(
                f"{name}-self-policy",
                role=self.role.id,
                policy=iam.policy_document([iam.allow(list(actions_on_itself), self.arn)]),
                opts=child,
            )
        if alarm_topic_arn is not None:
            workflow_alarms(
                name,
                state_machine_arn=self.arn,
                log_group_name=self.log_group.name,
                failure_metric_name=stack_scoped(f"{name}-unexpected-failures", limit=255),
                answers=answers,
                topic_arn=alarm_topic_arn,
                parent=self,
            )
        self.register_outputs({"arn": self.arn, "name": self.name, "logGroup": self.log_group.name})
