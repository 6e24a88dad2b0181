"""LambdaFunction: its own folder as code, its own role and log group, async failures dead-lettered."""

from __future__ import annotations

import json

import pytest

from components import iam
from components.lambda_function import FunctionSettings, LambdaFunction, code_archive
from localcloud import program

SETTINGS = FunctionSettings(
    log_retention_days=7,
    log_level="DEBUG",
    tracing=False,
    async_retry_attempts=1,
    dead_letter_retention_seconds=86400,
    layers=["arn:aws:lambda:us-east-1:123456789012:layer:pt:1"],
)
TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/orders"


@pytest.fixture
def code_dir(tmp_path):
    folder = tmp_path / "started"
    folder.mkdir()
    (folder / "handler.py").write_text("def handler(event, context):\n    return event\n")
    (folder / "order_rules.py").write_text("X = 1\n")
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"\0")
    return folder


def declare(code_dir, settings=SETTINGS, **kwargs):
    def build():
        LambdaFunction(
            "started",
            code_dir=code_dir,
            settings=settings,
            environment={"ORDER_TABLE_NAME": "orders"},
            statements=[iam.allow("dynamodb:PutItem", TABLE)],
            **kwargs,
        )

    return program.run("dev", build)


def test_archive_holds_the_function_folder_and_nothing_else(code_dir):
    archive = code_archive(code_dir)
    assert sorted(archive.assets) == ["handler.py", "order_rules.py"]


def test_a_folder_without_handler_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"has no handler\.py"):
        code_archive(tmp_path)


def test_function_runs_python_on_arm64_with_its_environment_and_the_layer(code_dir):
    function = declare(code_dir).named("started", "aws:lambda/function:Function")
    assert function.inputs["runtime"].startswith("python3.1")
    assert function.inputs["architectures"] == ["arm64"]
    assert function.inputs["handler"] == "handler.handler"
    variables = function.inputs["environment"]["variables"]
    assert variables["ORDER_TABLE_NAME"] == "orders"
    assert variables["POWERTOOLS_LOG_LEVEL"] == "DEBUG"
    assert function.inputs["layers"] == list(SETTINGS.layers)


def test_role_has_the_callers_statements_plus_logging_to_its_own_group_and_its_dlq(code_dir):
    run = declare(code_dir)
    statements = json.loads(run.named("started-policy").inputs["policy"])["Statement"]
    log_group = run.named("started-logs")
    dlq = run.named("started-dlq")
    assert statements == [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [f"{log_group.state['arn']}:*"],
        },
        {"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": [dlq.state["arn"]]},
        {"Effect": "Allow", "Action": ["dynamodb:PutItem"], "Resource": [TABLE]},
    ]


def test_logs_go_to_a_group_we_create_with_retention(code_dir):
    run = declare(code_dir)
    log_group = run.named("started-logs")
    function = run.named("started", "aws:lambda/function:Function")
    assert log_group.inputs["retentionInDays"] == 7
    assert function.inputs["loggingConfig"] == {"logFormat": "JSON", "logGroup": log_group.state["name"]}


def test_failed_async_invocations_retry_then_land_in_the_dlq(code_dir):
    run = declare(code_dir)
    invoke_config = run.named("started-async")
    assert invoke_config.inputs["maximumRetryAttempts"] == 1
    assert (
        invoke_config.inputs["destinationConfig"]["onFailure"]["destination"]
        == run.named("started-dlq").state["arn"]
    )


def test_reserved_concurrency_and_tracing_follow_the_arguments(code_dir):
    traced = FunctionSettings(**{**SETTINGS.__dict__, "tracing": True})
    run = declare(code_dir, settings=traced, reserved_concurrency=1)
    function = run.named("started", "aws:lambda/function:Function")
    assert function.inputs["reservedConcurrentExecutions"] == 1
    assert function.inputs["tracingConfig"] == {"mode": "Active"}
    actions = [
        a for s in json.loads(run.named("started-policy").inputs["policy"])["Statement"] for a in s["Action"]
    ]
    assert "xray:PutTraceSegments" in actions


def test_a_wildcard_for_an_action_aws_does_not_mandate_is_refused():
    with pytest.raises(ValueError, match="may not use Resource"):
        iam.allow_mandated_wildcard(["dynamodb:PutItem"])


def test_function_waits_for_its_permissions(code_dir):
    run = declare(code_dir)
    function = run.named("started", "aws:lambda/function:Function")
    assert run.named("started-policy").urn in function.dependencies
