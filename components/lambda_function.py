"""A Python function with its own role, log group and dead-letter queue for asynchronous invocations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from components import iam
from components.alarms import dead_letter_alarm, function_error_alarm

RUNTIME = "python3.13"
ARCHITECTURE = "arm64"


@dataclass(frozen=True)
class FunctionSettings:
    """What every function of a stack shares, from the stack config."""

    log_retention_days: int
    log_level: str
    tracing: bool
    async_retry_attempts: int
    dead_letter_retention_seconds: int
    layers: Sequence[pulumi.Input[str]] = ()
    alarm_topic_arn: pulumi.Input[str] | None = None  # where a dead letter or a function error is announced


BYTECODE_SUFFIXES = (".pyc", ".pyo")


def source_files(folder: Path) -> list[Path]:
    """The files of a folder that belong in a package, in a fixed order: no bytecode, no caches.

    Bytecode differs between two installs of the same code (it records when its source was written), so
    an archive holding it would change on every fresh install and every `pulumi up` would replace it.
    """
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in BYTECODE_SUFFIXES
    )


def code_archive(code_dir: Path, handler: str = "handler.handler") -> pulumi.AssetArchive:
    """The function's folder and nothing else (no caches), as the deployment package."""
    files = source_files(code_dir)
    module = handler.rpartition(".")[0].replace(".", "/") + ".py"
    if not any(p.relative_to(code_dir).as_posix() == module for p in files):
        raise ValueError(f"{code_dir} has no {module} for the handler {handler!r}")
    return pulumi.AssetArchive({p.relative_to(code_dir).as_posix(): pulumi.FileAsset(str(p)) for p in files})


class LambdaFunction(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        *,
        code_dir: Path,
        settings: FunctionSettings,
        environment: Mapping[str, pulumi.Input[str]] | None = None,
        statements: Sequence[iam.Statement] = (),
        memory_mb: int = 256,
        timeout_seconds: int = 10,
        reserved_concurrency: int | None = None,
        handler: str = "handler.handler",
        description: str = "",
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("serverlesspresso:functions:LambdaFunction", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs", retention_in_days=settings.log_retention_days, opts=child
        )
        self.dead_letter_queue = aws.sqs.Queue(
            f"{name}-dlq",
            sqs_managed_sse_enabled=True,
            message_retention_seconds=settings.dead_letter_retention_seconds,
            opts=child,
        )
        if settings.alarm_topic_arn is not None:
            dead_letter_alarm(f"{name}-dlq", self.dead_letter_queue, settings.alarm_topic_arn, self)
        self.role = aws.iam.Role(
            f"{name}-role", assume_role_policy=iam.assume_role_policy("lambda.amazonaws.com"), opts=child
        )
        policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=self.role.id,
            policy=iam.policy_document(
                [
                    iam.allow(
                        ["logs:CreateLogStream", "logs:PutLogEvents"],
                        self.log_group.arn.apply(lambda a: f"{a}:*"),
                    ),
                    iam.allow("sqs:SendMessage", self.dead_letter_queue.arn),
                    *iam.tracing_statements(settings.tracing),
                    *statements,
                ]
            ),
            opts=child,
        )

        self.function = aws.lambda_.Function(
            name,
            description=description,
            runtime=RUNTIME,
            architectures=[ARCHITECTURE],
            handler=handler,
            code=code_archive(code_dir, handler),
            role=self.role.arn,
            memory_size=memory_mb,
            timeout=timeout_seconds,
            reserved_concurrent_executions=reserved_concurrency,
            layers=list(settings.layers),
            environment={
                "variables": {
                    "POWERTOOLS_SERVICE_NAME": name,
                    "POWERTOOLS_LOG_LEVEL": settings.log_level,
                    **(environment or {}),
                }
            },
            logging_config={"log_format": "JSON", "log_group": self.log_group.name},
            tracing_config={"mode": "Active" if settings.tracing else "PassThrough"},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        if settings.alarm_topic_arn is not None:
            function_error_alarm(name, self.function.name, settings.alarm_topic_arn, self)
        self.async_config = aws.lambda_.FunctionEventInvokeConfig(
            f"{name}-async",
            function_name=self.function.name,
            maximum_retry_attempts=settings.async_retry_attempts,
            destination_config={"on_failure": {"destination": self.dead_letter_queue.arn}},
            opts=child,
        )

        self.arn = self.function.arn
        self.name = self.function.name
        self.invoke_arn = self.function.invoke_arn
        self.register_outputs(
            {
                "arn": self.arn,
                "name": self.name,
                "logGroup": self.log_group.name,
                "deadLetterQueue": self.dead_letter_queue.url,
            }
        )
