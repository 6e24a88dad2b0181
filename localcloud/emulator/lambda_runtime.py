"""Run a project Lambda handler in this process, the way the Lambda runtime would load and call it.

``load_handler`` imports one function folder; ``LambdaRuntime`` runs a deployed function from its code
archive: it unpacks the zip once per code hash, imports the handler with the function's environment
variables applied, calls it with a Lambda-like context and reports errors the way Lambda does
(``FunctionError: Unhandled`` with ``{errorMessage, errorType, stackTrace}``). It also counts requests
and billed duration per function, which a cost model reads from ``LambdaRuntime.usage``.

What a handler writes to ``sys.stdout`` while it runs (Powertools' Logger, EMF metrics, ``print``) is
captured per invocation into ``InvocationResult.logs`` instead of reaching the console, as Lambda sends it
to CloudWatch Logs; ``LambdaRuntime.listeners`` are called after every invocation with the function's
config and the result, which is how the local cloud writes log groups and extracts EMF metrics.

A function's environment variables never touch the process environment. ``isolate_environment()``
(called once, when the emulator installs, and by the first invocation) replaces ``os.environ`` with an
``InvocationEnviron``: a view of the real environment with a thread-local overlay. While a handler runs,
its thread sees its function's variables over the process's (``os.environ[...]``, ``os.getenv``, ``in``,
iteration, ``copy()``), and what it sets or deletes goes to its function's overlay, which lives as long
as the warm handler does (as in a Lambda container); every other thread (the Step Functions interpreter,
the pollers, the delivery worker, the test) sees the process environment, unchanged. Setting and
removing keys of the real ``os.environ`` around each call, as this module once did, let other threads
read a half-applied environment (``KeyError: 'AWS_REGION'`` from a concurrent ``os.environ.copy()``).
Not covered: code that captured the original mapping before the replacement (``from os import
environ``, a boto3 session created earlier keeps its own reference) sees the process environment only,
and threads or subprocesses a handler starts do not inherit its overlay.

Imports and calls are still serialised by one re-entrant lock, for the state that stays process-wide:
``sys.modules`` and ``sys.path`` while a handler is imported, the swap of ``sys.stdout`` for the output
capture, and the warm handlers' module globals (Powertools' Logger and Metrics buffers are not made for
concurrent invocations of one function). A handler that synchronously invokes another function (same
thread) works; a handler that waits for another thread which itself needs a Lambda would deadlock (not a
pattern this project uses).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import io
import json
import math
import os
import sys
import tempfile
import threading
import time
import traceback
import uuid
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

Handler = Callable[[dict[str, Any], Any], Any]


def load_module(code_dir: Path, module_name: str, alias: str | None = None) -> ModuleType:
    """Import ``module_name`` from ``code_dir`` as Lambda does (the folder is the import root).

    Sibling modules of one function are dropped from ``sys.modules`` after the import, so two functions
    may each have a module of the same name without one shadowing the other.
    """
    code_dir = Path(code_dir).resolve()
    before = set(sys.modules)
    sys.path.insert(0, str(code_dir))
    try:
        spec = importlib.util.spec_from_file_location(
            alias or f"lambda_{code_dir.name}_{module_name}", code_dir / f"{module_name}.py"
        )
        if spec is None or spec.loader is None:
            raise ImportError(f"no module {module_name!r} in {code_dir}")
        module = importlib.util.module_from_spec(spec)
        # Registered while it runs, as a normal import would be: dataclasses look their module up there.
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(code_dir))
        for name in set(sys.modules) - before:
            origin = getattr(sys.modules[name], "__file__", None) or ""
            if origin.startswith(str(code_dir)):
                del sys.modules[name]
    return module


def load_handler(code_dir: Path, handler: str = "handler.handler", alias: str | None = None) -> Handler:
    """The function ``<module>.<function>`` of a function folder, imported as Lambda does."""
    module_name, _, function_name = handler.rpartition(".")
    return getattr(load_module(code_dir, module_name, alias), function_name)


@dataclass(frozen=True)
class FunctionConfig:
    """What the runtime needs to know about one deployed function (independent of any emulator)."""

    name: str
    arn: str
    handler: str
    code_zip: bytes
    code_sha256: str
    environment: dict[str, str] = field(default_factory=dict)
    memory_mb: int = 128
    timeout_s: int = 3
    region: str = "us-east-1"
    layer_zips: tuple[bytes, ...] = ()  # the function's layers, in order; their python/ joins the path


@dataclass
class LambdaContext:
    """The attributes and method of the Python runtime's context object that handlers use."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_s: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    _started: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.log_group_name = self.log_group_name or f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_s - (time.monotonic() - self._started)) * 1000))


@dataclass(frozen=True)
class InvocationResult:
    """One invocation as Lambda reports it: the JSON payload, and ``function_error`` when it raised."""

    payload: bytes
    function_error: str | None
    duration_ms: float
    billed_duration_ms: int
    request_id: str
    logs: str = ""

    @property
    def failed(self) -> bool:
        return self.function_error is not None

    def payload_json(self) -> Any:
        return json.loads(self.payload)


@dataclass
class FunctionUsage:
    """Billing inputs for one function: requests, billed milliseconds and configured memory."""

    requests: int = 0
    errors: int = 0
    billed_duration_ms: int = 0
    memory_mb: int = 128


class _OutputRouter(io.TextIOBase):
    """Stands in for ``sys.stdout`` while a handler runs: a thread inside an invocation writes to that
    invocation's buffer, any other thread to the stream that was ``sys.stdout`` before. A Logger created
    during a handler's import keeps this object as its stream, so later invocations are captured too."""

    def __init__(self) -> None:
        self.fallback: Any = sys.stdout
        self._local = threading.local()

    def _buffers(self) -> list[io.StringIO]:
        if not hasattr(self._local, "buffers"):
            self._local.buffers = []
        return self._local.buffers

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        buffers = self._buffers()
        return buffers[-1].write(text) if buffers else self.fallback.write(text)

    def flush(self) -> None:
        if not self._buffers():
            self.fallback.flush()

    @contextlib.contextmanager
    def capture(self) -> Iterator[io.StringIO]:
        buffer = io.StringIO()
        outermost = sys.stdout is not self
        if outermost:
            self.fallback = sys.stdout
            sys.stdout = self
        self._buffers().append(buffer)
        try:
            yield buffer
        finally:
            self._buffers().pop()
            if outermost:
                sys.stdout = self.fallback


class InvocationEnviron(os._Environ):
    """``os.environ`` with a thread-local overlay: the environment of the invocation the current thread
    runs, over the process environment (see the module doc). An overlay maps a name to its value, or to
    None when the handler deleted it. Without an overlay it is exactly ``os.environ`` (same data)."""

    def __init__(self, process: os._Environ) -> None:
        super().__init__(
            process._data, process.encodekey, process.decodekey, process.encodevalue, process.decodevalue
        )
        self.process = process
        self._local = threading.local()

    def _overlay(self) -> dict[str, str | None] | None:
        stack = getattr(self._local, "stack", None)
        return stack[-1] if stack else None

    @contextlib.contextmanager
    def overlaid(self, variables: dict[str, str | None]) -> Iterator[None]:
        """This thread sees ``variables`` (and writes into them) for the duration."""
        if not hasattr(self._local, "stack"):
            self._local.stack = []
        self._local.stack.append(variables)
        try:
            yield
        finally:
            self._local.stack.pop()

    def __getitem__(self, key: str) -> str:
        overlay = self._overlay()
        if overlay is not None and key in overlay:
            value = overlay[key]
            if value is None:
                raise KeyError(key)
            return value
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        # Mapping's own would raise and catch a KeyError per absent name: moto and botocore ask for
        # dozens of absent variables on every call.
        overlay = self._overlay()
        if overlay is not None and key in overlay:
            return overlay[key] is not None
        return self.encodekey(key) in self._data  # a key that is no str: the TypeError os.environ raises

    def __setitem__(self, key: str, value: str) -> None:
        overlay = self._overlay()
        if overlay is None:
            super().__setitem__(key, value)
            return
        self.encodekey(key)  # the TypeError os.environ raises for a key or value that is no str
        self.encodevalue(value)
        overlay[key] = value

    def __delitem__(self, key: str) -> None:
        overlay = self._overlay()
        if overlay is None:
            super().__delitem__(key)
            return
        if key not in self:
            raise KeyError(key)
        overlay[key] = None

    def _snapshot(self) -> dict[str, str]:
        data = dict(self._data)  # copying a dict is atomic: no half-applied view of other threads' writes
        result = {self.decodekey(key): self.decodevalue(value) for key, value in data.items()}
        for key, value in (self._overlay() or {}).items():
            if value is None:
                result.pop(key, None)
            else:
                result[key] = value
        return result

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._snapshot()))

    def __len__(self) -> int:
        return len(self._snapshot())

    def __repr__(self) -> str:
        return f"environ({self._snapshot()!r})"

    def copy(self) -> dict[str, str]:
        return self._snapshot()

    def __or__(self, other: Any) -> Any:
        if not isinstance(other, Mapping):
            return NotImplemented
        return {**self._snapshot(), **other}

    def __ror__(self, other: Any) -> Any:
        if not isinstance(other, Mapping):
            return NotImplemented
        return {**other, **self._snapshot()}


_ISOLATE_LOCK = threading.Lock()


def isolate_environment() -> InvocationEnviron:
    """Replace ``os.environ`` by an ``InvocationEnviron`` over it, once per process; returns it."""
    with _ISOLATE_LOCK:
        if not isinstance(os.environ, InvocationEnviron):
            os.environ = InvocationEnviron(os.environ)  # noqa: B003 -- a view over the same data
        return os.environ


_OUTPUT = _OutputRouter()
_INVOKE_LOCK = threading.RLock()
_EXTRACT_LOCK = threading.Lock()
_DEFAULT_CACHE_DIR = Path(tempfile.gettempdir()) / "localcloud-lambda-code"


class LambdaRuntime:
    """Runs deployed functions in-process; one instance per emulator session (warm handlers are kept)."""

    def __init__(self, cache_dir: Path | None = None) -> None:
        self.cache_dir = Path(cache_dir) if cache_dir else _DEFAULT_CACHE_DIR
        self.usage: dict[str, FunctionUsage] = {}
        self.listeners: list[Callable[[FunctionConfig, InvocationResult], None]] = []
        self._handlers: dict[tuple[Any, ...], Handler] = {}
        self._environments: dict[tuple[Any, ...], dict[str, str | None]] = {}
        self._usage_lock = threading.Lock()

    def code_dir(self, config: FunctionConfig) -> Path:
        """Unpack the function's zip once per code hash and return the folder (the import root)."""
        return self._unpacked(config.code_zip, config.code_sha256)

    def _unpacked(self, code_zip: bytes, sha256: str) -> Path:
        key = "".join(ch if ch.isalnum() else "_" for ch in sha256) or "nohash"
        target = self.cache_dir / key
        with _EXTRACT_LOCK:
            if not target.is_dir():
                staging = Path(tempfile.mkdtemp(prefix=f"{key}.", dir=self._ensure_cache_dir()))
                with zipfile.ZipFile(io.BytesIO(code_zip)) as archive:
                    archive.extractall(staging)
                with contextlib.suppress(OSError):  # another process unpacked the same code first
                    staging.rename(target)
        return target

    def _add_layers(self, config: FunctionConfig) -> None:
        """Layers' ``python/`` folders go on the path, after what is installed (as /opt/python does)."""
        for layer_zip in config.layer_zips:
            folder = self._unpacked(layer_zip, hashlib.sha256(layer_zip).hexdigest()) / "python"
            if folder.is_dir() and str(folder) not in sys.path:
                sys.path.append(str(folder))

    def _ensure_cache_dir(self) -> Path:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        return self.cache_dir

    def _environment(self, config: FunctionConfig) -> dict[str, str]:
        return {
            "AWS_REGION": config.region,
            "AWS_LAMBDA_FUNCTION_NAME": config.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{config.name}",
            "_HANDLER": config.handler,
            **{str(k): str(v) for k, v in config.environment.items()},
        }

    @staticmethod
    def _key(config: FunctionConfig) -> tuple[Any, ...]:
        return (config.arn, config.code_sha256, config.handler, tuple(sorted(config.environment.items())))

    def _environment_of(self, config: FunctionConfig) -> dict[str, str | None]:
        """The function's environment as its warm handler sees it (its own writes included)."""
        return self._environments.setdefault(self._key(config), dict(self._environment(config)))

    def _handler(self, config: FunctionConfig) -> Handler:
        key = self._key(config)
        if key not in self._handlers:
            alias = f"lambda_{config.name}_{config.code_sha256[:12]}".replace("-", "_")
            self._add_layers(config)
            self._handlers[key] = load_handler(self.code_dir(config), config.handler, alias=alias)
        return self._handlers[key]

    def invoke(self, config: FunctionConfig, payload: Any) -> InvocationResult:
        """Call the function's handler with ``payload`` (already parsed JSON) and report like Lambda."""
        context = LambdaContext(
            function_name=config.name,
            invoked_function_arn=config.arn,
            memory_limit_in_mb=config.memory_mb,
            timeout_s=config.timeout_s,
        )
        function_error: str | None = None
        environ = isolate_environment()
        with _INVOKE_LOCK, environ.overlaid(self._environment_of(config)), _OUTPUT.capture() as output:
            started = time.perf_counter()
            try:
                handler = self._handler(config)
            except Exception as error:
                handler = None
                function_error = "Unhandled"
                body = json.dumps(_error_payload(error, "Runtime.ImportModuleError")).encode()
            if handler is not None:
                try:
                    body = json.dumps(handler(payload, context)).encode()
                except Exception as error:
                    function_error = "Unhandled"
                    body = json.dumps(_error_payload(error)).encode()
            duration_ms = (time.perf_counter() - started) * 1000
        billed = max(1, math.ceil(duration_ms))
        self._record(config, billed, failed=function_error is not None)
        result = InvocationResult(
            body, function_error, duration_ms, billed, context.aws_request_id, output.getvalue()
        )
        for listener in list(self.listeners):
            listener(config, result)
        return result

    def _record(self, config: FunctionConfig, billed_ms: int, failed: bool) -> None:
        with self._usage_lock:
            usage = self.usage.setdefault(config.name, FunctionUsage(memory_mb=config.memory_mb))
            usage.requests += 1
            usage.errors += int(failed)
            usage.billed_duration_ms += billed_ms
            usage.memory_mb = config.memory_mb


def _error_payload(error: BaseException, error_type: str | None = None) -> dict[str, Any]:
    return {
        "errorMessage": str(error),
        "errorType": error_type or type(error).__name__,
        "stackTrace": traceback.format_tb(error.__traceback__),
    }
