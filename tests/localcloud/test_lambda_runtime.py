"""The in-process Lambda runtime: environment (isolated per invocation thread), warm state, and
Lambda-shaped errors."""

from __future__ import annotations

import hashlib
import io
import os
import sys
import threading
import types
import zipfile

import pytest

from localcloud.emulator.lambda_runtime import FunctionConfig, LambdaRuntime

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


# --- a function's environment is the invoking thread's alone -------------------------------------------

ISOLATION_SOURCE = """
import os
import time

import localcloud_test_sync as sync


def handler(event, context):
    os.environ["WRITTEN"] = "by-handler"
    os.environ.pop("PROCESS_ONLY", None)
    if event.get("wait"):
        sync.inside.set()
        sync.checked.wait(10)
    elif event.get("nap"):
        time.sleep(0.001)
    return {
        "shared": os.environ["SHARED"],
        "function_only": os.getenv("FUNCTION_ONLY"),
        "region": os.environ["AWS_REGION"],
        "process_only": "PROCESS_ONLY" in os.environ,
        "written": os.environ.get("WRITTEN"),
        "copied": {k: v for k, v in os.environ.copy().items() if k in ("SHARED", "FUNCTION_ONLY", "WRITTEN")},
    }
"""
SEEN_BY_HANDLER = {
    "shared": "function",
    "function_only": "function",
    "region": "us-east-1",
    "process_only": False,
    "written": "by-handler",
    "copied": {"SHARED": "function", "FUNCTION_ONLY": "function", "WRITTEN": "by-handler"},
}


@pytest.fixture
def isolation(tmp_path, monkeypatch):
    """A runtime and a function that overrides SHARED, adds FUNCTION_ONLY, writes WRITTEN and deletes
    PROCESS_ONLY; the process has SHARED and PROCESS_ONLY, and no AWS_REGION."""
    monkeypatch.setenv("SHARED", "process")
    monkeypatch.setenv("PROCESS_ONLY", "process")
    for name in ("AWS_REGION", "FUNCTION_ONLY", "WRITTEN"):
        monkeypatch.delenv(name, raising=False)
    sync = types.ModuleType("localcloud_test_sync")
    sync.inside, sync.checked = threading.Event(), threading.Event()
    monkeypatch.setitem(sys.modules, "localcloud_test_sync", sync)
    function = config({"app.py": ISOLATION_SOURCE}, SHARED="function", FUNCTION_ONLY="function")
    return LambdaRuntime(cache_dir=tmp_path), function, sync


def process_view() -> dict:
    """What a thread outside any invocation sees of the four variables."""
    copied = os.environ.copy()
    return {
        "shared": os.environ["SHARED"],
        "process_only": os.getenv("PROCESS_ONLY"),
        "function_only": "FUNCTION_ONLY" in os.environ,
        "written": os.environ.get("WRITTEN"),
        "region": os.environ.get("AWS_REGION"),
        "copied": {k: copied.get(k) for k in ("SHARED", "FUNCTION_ONLY", "WRITTEN", "AWS_REGION")},
        "listed": "FUNCTION_ONLY" in list(os.environ),
    }


PROCESS_VIEW = {
    "shared": "process",
    "process_only": "process",
    "function_only": False,
    "written": None,
    "region": None,
    "copied": {"SHARED": "process", "FUNCTION_ONLY": None, "WRITTEN": None, "AWS_REGION": None},
    "listed": False,
}


def test_other_threads_see_the_process_environment_while_a_handler_runs(isolation):
    runtime, function, sync = isolation
    results = []
    invoker = threading.Thread(target=lambda: results.append(runtime.invoke(function, {"wait": True})))
    invoker.start()
    try:
        assert sync.inside.wait(10), "the handler never started"
        seen_meanwhile = process_view()
    finally:
        sync.checked.set()
        invoker.join(10)

    assert seen_meanwhile == PROCESS_VIEW
    [result] = results
    assert result.payload_json() == SEEN_BY_HANDLER
    assert process_view() == PROCESS_VIEW


def test_a_handlers_writes_stay_in_its_warm_environment(isolation):
    runtime, function, _ = isolation

    first = runtime.invoke(function, {}).payload_json()
    second = runtime.invoke(function, {}).payload_json()

    assert first == second == SEEN_BY_HANDLER
    assert process_view() == PROCESS_VIEW


def test_environment_reads_racing_invocations_never_see_a_half_applied_environment(isolation):
    """The stress loop behind CI's `KeyError: 'AWS_REGION'`: 200 invocations (each naps 1 ms, so the
    reader runs while one is in progress) against a thread reading and copying the environment."""
    runtime, function, _ = isolation
    done = threading.Event()
    errors: list[BaseException] = []
    wrong: list[dict] = []
    reads = 0

    def read() -> None:
        nonlocal reads
        while not done.is_set():
            try:
                view = process_view()
            except Exception as error:
                errors.append(error)
                continue
            reads += 1
            if view != PROCESS_VIEW:
                wrong.append(view)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        payloads = [runtime.invoke(function, {"nap": True}).payload_json() for _ in range(200)]
    finally:
        done.set()
        reader.join(10)

    assert reads > 0
    assert errors == []
    assert wrong == []
    assert all(payload == SEEN_BY_HANDLER for payload in payloads)


def test_the_environment_mapping_behaves_like_os_environ_outside_invocations(monkeypatch):
    from localcloud.emulator.lambda_runtime import isolate_environment

    environ = isolate_environment()
    assert os.environ is environ and isinstance(environ, os._Environ)
    monkeypatch.setenv("LOCALCLOUD_PROBE", "1")
    assert os.environ.setdefault("LOCALCLOUD_PROBE", "2") == "1"
    assert (os.environ | {"X": "y"})["LOCALCLOUD_PROBE"] == "1"
    assert environ.process["LOCALCLOUD_PROBE"] == "1"  # the same data as the original mapping
    del os.environ["LOCALCLOUD_PROBE"]
    assert "LOCALCLOUD_PROBE" not in environ.process and os.getenv("LOCALCLOUD_PROBE") is None
    with pytest.raises(TypeError):
        os.environ["LOCALCLOUD_PROBE"] = 1


def test_writes_and_deletes_inside_an_invocation_go_to_its_overlay(monkeypatch):
    from localcloud.emulator.lambda_runtime import isolate_environment

    environ = isolate_environment()
    monkeypatch.setenv("LOCALCLOUD_PROBE", "process")
    overlay: dict = {"OWN": "own"}
    with environ.overlaid(overlay):
        os.environ["NEW"] = "new"
        del os.environ["LOCALCLOUD_PROBE"]
        with pytest.raises(KeyError):
            del os.environ["LOCALCLOUD_PROBE"]
        assert "LOCALCLOUD_PROBE" not in os.environ and "LOCALCLOUD_PROBE" not in os.environ.copy()
        assert os.environ.setdefault("OWN", "other") == "own"
        assert {"OWN", "NEW"} <= set(os.environ) and len(os.environ) == len(os.environ.copy())

    assert overlay == {"OWN": "own", "NEW": "new", "LOCALCLOUD_PROBE": None}
    assert os.environ["LOCALCLOUD_PROBE"] == "process"
    assert "NEW" not in os.environ and "OWN" not in os.environ
