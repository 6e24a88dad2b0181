"""The in-process Lambda runtime: environment, warm state, and Lambda-shaped errors."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile

from localcloud.lambda_runtime import FunctionConfig, LambdaRuntime

SOURCE = """
import os

import helper

CALLS = []


def handler(event, context):
    CALLS.append(event)
    return {"shop": os.environ["SHOP_NAME"], "calls": len(CALLS), "helper": helper.NAME}
"""


def config(tmp_files: dict[str, str], **environment: str) -> FunctionConfig:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in tmp_files.items():
            archive.writestr(name, text)
    code = buffer.getvalue()
    return FunctionConfig(
        name="shop",
        arn="arn:aws:lambda:us-east-1:123456789012:function:shop",
        handler="app.handler",
        code_zip=code,
        code_sha256=hashlib.sha256(code).hexdigest(),
        environment=environment,
        memory_mb=256,
    )


def test_handler_sees_the_function_environment_only_during_the_call(tmp_path):
    runtime = LambdaRuntime(cache_dir=tmp_path)
    function = config({"app.py": SOURCE, "helper.py": "NAME = 'sibling'"}, SHOP_NAME="corner")

    result = runtime.invoke(function, {})

    assert result.payload_json()["shop"] == "corner"
    assert result.payload_json()["helper"] == "sibling"
    assert "SHOP_NAME" not in os.environ


def test_warm_handler_keeps_module_state_and_usage_is_counted(tmp_path):
    runtime = LambdaRuntime(cache_dir=tmp_path)
    function = config({"app.py": SOURCE, "helper.py": "NAME = 'x'"}, SHOP_NAME="corner")

    runtime.invoke(function, {})
    second = runtime.invoke(function, {})

    assert second.payload_json()["calls"] == 2
    usage = runtime.usage["shop"]
    assert (usage.requests, usage.errors, usage.memory_mb) == (2, 0, 256)
    assert usage.billed_duration_ms >= 2


def test_broken_package_is_reported_as_an_import_error(tmp_path):
    runtime = LambdaRuntime(cache_dir=tmp_path)
    function = config({"app.py": SOURCE}, SHOP_NAME="corner")

    result = runtime.invoke(function, {})

    assert result.function_error == "Unhandled"
    assert result.payload_json()["errorType"] == "Runtime.ImportModuleError"
    assert runtime.usage["shop"].errors == 1
