"""The request path every service shares: botocore (the SDK under every client) and moto's dispatch.

Every ``boto3.session.Session`` (the tests', each function's, moto's own) gets a new botocore loader,
and each loader parsed the same JSON service models, endpoint rule sets and partitions again: measured
on this project, a third of the test suite's samples were inside client creation and a quarter in
``json.loads`` of those files. A loader only ever reads files that ship with botocore (plus
``~/.aws/models``), so loaders with the same search paths can share one cache of what they read; the
cache holds what one loader already keeps for its lifetime, and nobody writes to those models.

A call that moto answers never leaves the process, so four steps of its way are skipped or kept while
a mock is active (``mocking()`` for the first two), and only then:

- Signing. Signature Version 4 hashes the request twice and derives a key per call; moto checks no
  signature. A request gets the same ``Authorization`` header shape without the HMAC work
  (``LocalSignature``): the access key, date, region and service of the credential scope, which are
  what moto reads (the account behind the access key, the region of global endpoints).
- The ``User-Agent`` string, rebuilt from a dozen components on every call: kept per client and per
  set of feature ids (the only part that changes between a client's calls).
- moto's routing, which tried each service's URL patterns in turn (hundreds) and then each URL of the
  service's backend, rebuilding that map, on every request: the handler found for a URL is kept
  (``route()``), looked up exactly as moto looks it up. Routing falls back to moto's own when its
  passthrough or whitelist settings are in use.
- moto's backend lookup (``backends[account]``), which took a global lock and scanned the list of
  backends in use on every access: a backend registered since the last reset is looked up directly.

moto's dispatch listed the methods of the service's response class (``inspect.getmembers``) on every
request, to find the action's handler: the list is now kept per class. Classes are complete once the
service modules have patched them, which ``emulator.install()`` does before any request.

moto's response serializer, for every member of every output shape of every response, built the
member's possible names (the key, its snake_case form, the shape's name...) by asking six alias
providers; for a plain dict those names depend only on the shape and the key, so they are now kept
per (shape, parent, key) (``_keep_response_keys``) and tried in the same order: the same value is
picked. Measured on an UpdateItem, serializing its answer went from 0.87 to 0.38 ms.

moto gave every response a request id of 52 letters and digits, drawn one ``random.choice`` at a time
(a fiftieth of a simulated day's CPU); ``_cheaper_request_ids`` draws the same alphabet and length
from moto's random source in one ``choices`` call.

``install()`` also raises the garbage collector's thresholds: the emulator allocates many short-lived
objects per request (botocore's and moto's request/response machinery), and full collections were
measured at a fifth of a simulated day's time. Reference counting still frees almost everything at
once; the cyclic collector just runs less often.

Tests: ``tests/localcloud/test_emulator_sdk.py``.
"""

from __future__ import annotations

import functools
import gc
import re
import string
import threading
import time
from collections.abc import Callable
from typing import Any

from localcloud.emulator.core import run_once

# gen-0 collection after this many net allocations (CPython's default is 700), then gen 1 and gen 2 as
# rarely as their defaults relative to it.
GC_THRESHOLDS = (50_000, 20, 20)
# URLs whose handler is kept (distinct paths: one per function, topic, queue...); the map starts over
# when it is full.
ROUTES_KEPT = 4096
# Possible names kept per (shape, parent, member) of moto's response serializer; starts over when full.
RESPONSE_KEYS_KEPT = 8192
# (method, URL) whose WSGI environ without body and headers is kept; starts over when full.
ENVIRONS_KEPT = 4096
# camelCase names kept with their snake_case form (operation and attribute names: a few hundred).
SNAKE_CASE_KEPT = 4096

_caches: dict[tuple[Any, ...], dict[Any, Any]] = {}
_lock = threading.Lock()
_routes: dict[str, Callable[..., Any] | None] = {}
_response_keys: dict[tuple[Any, ...], tuple[str, ...]] = {}
_environs: dict[tuple[str, str], dict[str, Any]] = {}


def _keep(kept: dict[Any, Any], limit: int, key: Any, value: Any) -> None:
    """Keep ``value`` under ``key`` in ``kept``, which starts over once it holds ``limit`` entries."""
    with _lock:
        if len(kept) >= limit:
            kept.clear()
        kept[key] = value


@functools.cache
def _stubber() -> Any:
    from moto.core.models import botocore_stubber

    return botocore_stubber


def mocking() -> bool:
    """Whether moto answers this process's AWS calls now (a ``mock_aws`` is active)."""
    return _stubber().enabled


class LocalSignature:
    """What Signature Version 4 adds to a request's headers, minus the signature itself."""

    def __init__(self, credentials: Any, service_name: str, region_name: str) -> None:
        self.credentials = credentials
        self.service_name = service_name
        self.region_name = region_name

    def add_auth(self, request: Any) -> None:
        frozen = self.credentials.get_frozen_credentials()
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        scope = f"{frozen.access_key}/{stamp[:8]}/{self.region_name}/{self.service_name}/aws4_request"
        for name in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token"):
            if name in request.headers:
                del request.headers[name]
        request.headers["X-Amz-Date"] = stamp
        if frozen.token:
            request.headers["X-Amz-Security-Token"] = frozen.token
        request.headers["Authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host;x-amz-date, Signature=local"
        )


def _skip_signing() -> None:
    from botocore.signers import RequestSigner

    original = RequestSigner.get_auth_instance

    def get_auth_instance(
        self: Any,
        signing_name: str,
        region_name: str,
        signature_version: Any = None,
        request_credentials: Any = None,
        **kwargs: Any,
    ) -> Any:
        version = signature_version if signature_version is not None else self._signature_version
        credentials = request_credentials or self._credentials
        if version == "v4" and credentials is not None and not kwargs and mocking():
            return LocalSignature(credentials, signing_name, region_name)
        return original(self, signing_name, region_name, signature_version, request_credentials, **kwargs)

    RequestSigner.get_auth_instance = get_auth_instance


def _keep_user_agents() -> None:
    from botocore import context
    from botocore.useragent import UserAgentString

    original = UserAgentString.to_string

    def to_string(self: Any) -> str:
        if not mocking():
            return original(self)
        current = context.get_context()
        key = frozenset(current.features) if current is not None else frozenset()
        kept = self.__dict__.setdefault("_localcloud_strings", {})
        if key not in kept:
            kept[key] = original(self)
        return kept[key]

    UserAgentString.to_string = to_string


def route(clean_url: str) -> Callable[..., Any] | None:
    """The handler moto dispatches ``clean_url`` (scheme, host and path) to, or None if it mocks none."""
    if clean_url in _routes:
        return _routes[clean_url]
    import moto.backend_index as backend_index
    import moto.backends as backends
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.core.base_backend import BackendDict

    handler = None
    patterns = backend_index.backend_url_patterns
    service = next((name for name, pattern in patterns if pattern.match(clean_url)), None)
    if service is not None:
        backend_dict = backends.get_backend(service)
        if isinstance(backend_dict, BackendDict):
            regions = backend_dict[DEFAULT_ACCOUNT_ID]
            backend = regions["us-east-1"] if "us-east-1" in regions else regions["aws"]
        else:
            backend = backend_dict["global"]
        handler = next((h for url, h in backend.urls.items() if re.compile(url).match(clean_url)), None)
    _keep(_routes, ROUTES_KEPT, clean_url, handler)
    return handler


def _keep_routes() -> None:
    from moto.core import botocore_stubber, config
    from moto.core.exceptions import HTTPException
    from moto.core.request import normalize_request
    from moto.core.utils import get_equivalent_url_in_aws_domain
    from moto.moto_api import recorder

    Stubber = botocore_stubber.BotocoreStubber
    original = Stubber.process_request

    def own_routing_needed() -> bool:
        core = config.default_user_config.get("core", {})
        passthrough = core.get("passthrough") or {}
        passing = passthrough.get("urls") or passthrough.get("services")
        return bool(passing) or core.get("service_whitelist") is not None

    def process_request(self: Any, request: Any) -> Any:
        if own_routing_needed():
            return original(self, request)
        parsed, _ = get_equivalent_url_in_aws_domain(request.url)
        handler = route(f"{parsed.scheme}://{parsed.netloc}{parsed.path}")
        if handler is None:
            return original(self, request)  # moto's own answer for what it does not mock
        normalized = normalize_request(request)
        try:
            recorder._record_request(normalized)
            return handler(normalized, normalized.raw_url, normalized.headers)
        except HTTPException as error:
            return error.code, error.get_headers(), error.get_body()

    Stubber.process_request = process_request


def _keep_backend_lookups() -> None:
    """``backends[account]`` took moto's global lock, listed the accounts and scanned the list of every
    backend in use (comparing each) on every access, to register the backend for the reset that ends a
    mock. A backend registered since the last reset is looked up directly; the rest go moto's way."""
    from moto.core.base_backend import BackendDict

    registered: set[int] = set()  # ids of BackendDicts in moto's list since its last reset
    original_getitem = BackendDict.__getitem__
    original_reset = BackendDict.reset.__func__

    def getitem(self: Any, account_id: str) -> Any:
        if id(self) in registered:
            try:
                return dict.__getitem__(self, account_id)
            except KeyError:
                pass
        backend = original_getitem(self, account_id)  # registers self for the next reset
        registered.add(id(self))
        return backend

    def reset(cls: Any) -> None:
        registered.clear()
        original_reset(cls)

    BackendDict.__getitem__ = getitem
    BackendDict.reset = classmethod(reset)


def _keep_response_keys() -> None:
    from moto.core import serialize

    Picker = serialize.AttributePicker
    original_call = Picker.__call__
    MISSING = serialize.MISSING
    get_value = serialize.get_value

    def call(self: Any, context: Any) -> Any:
        obj = context.obj
        if obj.__class__ is not dict:
            return original_call(self, context)
        shape = context.shape
        key = (
            self.__class__,
            tuple(self.alias_providers),
            shape,
            getattr(shape, "parent", None),
            context.key,
        )
        candidates = _response_keys.get(key)
        if candidates is None:
            candidates = tuple(self.get_possible_keys(context))
            _keep(_response_keys, RESPONSE_KEYS_KEPT, key, candidates)
        for candidate in candidates:
            value = (
                obj.get(candidate, MISSING) if "." not in candidate else get_value(obj, candidate, MISSING)
            )
            if value is not MISSING:
                break
        else:
            value = None
        if self.response_transformers:
            key_path = f"{context.key_path}.{context.key}"
            for transform_path, transform in self.response_transformers.items():
                if key_path.endswith(transform_path):
                    return transform(value)
        return value

    call.__wrapped__ = original_call  # type: ignore[attr-defined]
    Picker.__call__ = call


REQUEST_ID_ALPHABET = string.ascii_letters + string.digits
REQUEST_ID_LENGTH = 52


def _cheaper_request_ids() -> None:
    from moto.core import responses
    from moto.moto_api._internal import mock_random

    def gen_amzn_requestid_long(headerdict: dict[str, Any] | None = None) -> str:
        request_id = "".join(mock_random.choices(REQUEST_ID_ALPHABET, k=REQUEST_ID_LENGTH))
        if isinstance(headerdict, dict):
            headerdict["x-amzn-requestid"] = request_id
        return request_id

    responses.gen_amzn_requestid_long = gen_amzn_requestid_long


FORMS_BUILT_BY_WERKZEUG = ("multipart/form-data", "application/x-www-form-urlencoded")


def _keep_request_environs() -> None:
    import io
    import sys
    from urllib.parse import urlparse

    from botocore.httpchecksum import AwsChunkedWrapper
    from moto.core import request as moto_request
    from werkzeug.datastructures import Headers
    from werkzeug.test import EnvironBuilder

    Request = moto_request.Request
    original = Request.from_primitives.__func__

    def url_environ(method: str, url: str) -> dict[str, Any]:
        key = (method, url)
        kept = _environs.get(key)
        if kept is None:
            parsed = urlparse(url)
            builder = EnvironBuilder(
                method=method,
                base_url=f"{parsed.scheme}://{parsed.netloc}",
                path=parsed.path,
                query_string=parsed.query,
                data=b"",
                headers=[],
            )
            try:
                kept = builder.get_environ()
            finally:
                builder.close()
            kept["wsgi.input"] = kept["wsgi.errors"] = None  # each call's own, in the builder's order
            _keep(_environs, ENVIRONS_KEPT, key, kept)
        return kept

    def from_primitives(cls: Any, method: str, url: str, headers: Any, body: Any = None) -> Any:
        if isinstance(body, str):
            body = body.encode()
        if not (body is None or isinstance(body, bytes)) or isinstance(body, AwsChunkedWrapper):
            return original(cls, method, url, headers, body)
        items = Headers(
            [
                (key, value.decode("utf-8") if isinstance(value, bytes) else value)
                for key, value in headers.items()
                if key.lower() != "transfer-encoding"
            ]
        )
        content_type = items.get("Content-Type")
        mimetype = content_type.partition(";")[0].strip() if content_type else None
        if not body and mimetype in FORMS_BUILT_BY_WERKZEUG:
            return original(cls, method, url, headers, body)
        environ = dict(url_environ(method, url))
        environ["wsgi.errors"] = sys.stderr
        environ["wsgi.input"] = io.BytesIO(body or b"")
        if content_type is not None:
            environ["CONTENT_TYPE"] = content_type
        if body:  # without a body the builder drops a Content-Length header (moto then sets "0")
            environ["CONTENT_LENGTH"] = str(len(body))
        preserved = {}
        combined: dict[str, list[str]] = {}
        for key, value in items:
            if moto_request.should_preserve_original_header_name(key):
                preserved[moto_request.environ_key_for_header(key)] = key
            if key.lower() in ("content-type", "content-length"):
                continue
            combined.setdefault(f"HTTP_{key.upper().replace('-', '_')}", []).append(value)
        for key, values in combined.items():
            environ[key] = ", ".join(values)
        request = cls(environ)
        request.environ[moto_request.PRESERVED_HEADER_NAMES_ENVIRON_KEY] = preserved
        request.environ.setdefault("CONTENT_LENGTH", "0")
        return request

    from_primitives.__wrapped__ = original  # type: ignore[attr-defined]
    Request.from_primitives = classmethod(from_primitives)


# Every moto module of the services this project uses that took moto's converter by name at import.
SNAKE_CASE_USERS = ("moto.core.utils", "moto.core.responses", "moto.sqs.models")


def _keep_snake_case() -> None:
    import importlib

    from moto.core import utils

    convert = utils.camelcase_to_underscores
    if not hasattr(convert, "cache_info"):
        convert = functools.lru_cache(maxsize=SNAKE_CASE_KEPT)(convert)
    for name in SNAKE_CASE_USERS:
        importlib.import_module(name).camelcase_to_underscores = convert


def kept_response_keys() -> int:
    """How many (shape, member) name lists the response serializer keeps now."""
    with _lock:
        return len(_response_keys)


@run_once
def install() -> None:
    import botocore.loaders

    original_init = botocore.loaders.Loader.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        key = (type(self), type(self.file_loader), tuple(self.search_paths), tuple(self.extras_types))
        with _lock:
            self._cache = _caches.setdefault(key, {})

    botocore.loaders.Loader.__init__ = init

    from moto.core import responses

    responses.method_names_from_class = functools.cache(responses.method_names_from_class)
    _skip_signing()
    _keep_user_agents()
    _keep_routes()
    _keep_backend_lookups()
    _keep_response_keys()
    _cheaper_request_ids()
    _keep_snake_case()
    _keep_request_environs()
    gc.set_threshold(*GC_THRESHOLDS)


def shared_caches() -> int:
    """How many distinct loader caches the process holds (one per set of search paths)."""
    with _lock:
        return len(_caches)
