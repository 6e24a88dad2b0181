"""API Gateway mapping templates (VTL), rendered with airspeed-ext (the fork kept for AWS-style templates).

``render(template, body=..., params=..., context=...)`` renders one request or response template with the
variables API Gateway supplies and returns the text plus what the template set in
``$context.responseOverride``:

- ``$input``: ``body`` (the raw payload; ``{}`` when empty, as AWS), ``json(path)`` (the JSONPath match as
  JSON text: a string comes out with its quotes), ``path(path)`` (the match as an object), ``params()`` (a
  map ``path``/``querystring``/``header``) and ``params(name)`` (path, then query string, then header;
  ``""`` when absent).
- ``$util``: ``escapeJavaScript`` (Java's ``StringEscapeUtils.escapeJavaScript``, as AWS: quotes,
  backslashes, ``/``, control characters and non-ASCII become escapes, and a single quote becomes ``\\'``,
  which is not valid JSON, hence AWS's documented ``.replaceAll("\\\\'","'")``), ``parseJson``,
  ``urlEncode``/``urlDecode`` (Java's ``URLEncoder``), ``base64Encode``/``base64Decode``.
- ``$context``: whatever map the caller passes (``requestId``, ``httpMethod``, ``authorizer.claims`` ...);
  ``$context.responseOverride.status`` and ``$context.responseOverride.header.<Name>`` may be set.
- ``$stageVariables``.

Java-isms airspeed lacks are added (``install()``, idempotent, also run on first render): ``toString()``
on strings, numbers and booleans, ``equals``, ``isEmpty``, ``trim``, ``indexOf`` returning -1,
``replaceAll`` with Java's ``$1`` replacement syntax, ``size``/``containsKey``/``entrySet`` on maps. Maps
and lists print as compact JSON, never Python reprs.

A body that is not JSON fails any template that reads it through ``$input.json`` or ``$input.path``
(``UnparsableBody``; the API answers the gateway's 500): AWS documents no answer for it, so the local cloud
takes the stricter one, and templates that must answer such a body read ``$input.body`` instead.

Not modelled: ``$context.requestOverride``; ``$input.path`` of a map prints as JSON, whereas AWS prints a
Java ``{key=value}`` map (lists print as JSON on both); ``#include``/``#parse``; AWS's template size limits.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus, unquote_plus

import airspeed
import jsonpath_ng.ext
from airspeed import operators

from localcloud.emulator.core import run_once, strict_json

__all__ = [
    "JsonList",
    "JsonMap",
    "Rendered",
    "UnparsableBody",
    "escape_javascript",
    "install",
    "render",
    "select",
    "wrap",
]


class JsonMap(dict):
    """A map whose text (``$map`` printed, ``$map.toString()``) is compact JSON."""

    def __str__(self) -> str:
        return _dumps(self)


class JsonList(list):
    """A list whose text is compact JSON."""

    def __str__(self) -> str:
        return _dumps(self)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def wrap(value: Any) -> Any:
    """Dicts and lists (deeply) as ``JsonMap``/``JsonList``, so that printing them gives JSON."""
    if isinstance(value, Mapping):
        return JsonMap({key: wrap(item) for key, item in value.items()})
    if isinstance(value, (list, tuple)):
        return JsonList(wrap(item) for item in value)
    return value


# --------------------------------------------------------------------------- Java string behaviour


def _java_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)


def escape_javascript(value: Any) -> str:
    """Java's commons-lang ``StringEscapeUtils.escapeJavaScript`` (what ``$util.escapeJavaScript`` is)."""
    if value is None:
        return ""
    text = _java_text(value)
    out = []
    for unit in _utf16_units(text):
        char = chr(unit)
        if unit > 0x7F:
            out.append(f"\\u{unit:04X}")
        elif unit < 0x20:
            out.append(_CONTROL.get(char) or f"\\u{unit:04X}")
        elif char in "'\"\\/":
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


_CONTROL = {"\b": "\\b", "\n": "\\n", "\t": "\\t", "\f": "\\f", "\r": "\\r"}


def _utf16_units(text: str) -> list[int]:
    data = text.encode("utf-16-be", "surrogatepass")
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


def _replace_all(text: str, pattern: str, replacement: str, count: int = 0) -> str:
    """Java's ``String.replaceAll``: ``$n`` names a group, a backslash quotes the next character."""

    def expand(match: re.Match[str]) -> str:
        out, i = [], 0
        while i < len(replacement):
            char = replacement[i]
            if char == "\\" and i + 1 < len(replacement):
                out.append(replacement[i + 1])
                i += 2
            elif char == "$" and i + 1 < len(replacement) and replacement[i + 1].isdigit():
                out.append(match.group(int(replacement[i + 1])) or "")
                i += 2
            else:
                out.append(char)
                i += 1
        return "".join(out)

    return re.sub(pattern, expand, text, count=count)


_STRING_METHODS = {
    "toString": lambda self: self,
    "equals": lambda self, other: self == other,
    "equalsIgnoreCase": lambda self, other: isinstance(other, str) and self.lower() == other.lower(),
    "isEmpty": lambda self: len(self) == 0,
    "trim": lambda self: self.strip(),
    "toLowerCase": lambda self: self.lower(),
    "toUpperCase": lambda self: self.upper(),
    "endsWith": lambda self, suffix: self.endswith(suffix),
    "indexOf": lambda self, part: self.find(part),
    "lastIndexOf": lambda self, part: self.rfind(part),
    "charAt": lambda self, index: self[index],
    "replaceAll": _replace_all,
    "replaceFirst": lambda self, pattern, repl: _replace_all(self, pattern, repl, count=1),
}


def _entry_set(self: dict) -> JsonList:
    return JsonList(JsonMap(key=key, value=value) for key, value in self.items())


_MAP_METHODS = {
    "toString": str,
    "size": len,
    "isEmpty": lambda self: len(self) == 0,
    "containsKey": lambda self, key: key in self,
    "keySet": lambda self: JsonList(self.keys()),
    "values": lambda self: JsonList(self.values()),
    "entrySet": _entry_set,
}
_LIST_METHODS = {"toString": str}


@run_once
def install() -> None:
    """Teach airspeed the Java methods templates call (see the module doc); safe to call repeatedly."""
    methods = operators.__additional_methods__
    methods[str].update(_STRING_METHODS)
    for number in (int, float):
        methods.setdefault(number, {})["toString"] = str
    methods.setdefault(bool, {})["toString"] = _java_text
    methods[JsonMap] = {**methods[dict], **_MAP_METHODS}
    methods[JsonList] = {**methods[list], **_LIST_METHODS}


# --------------------------------------------------------------------------- $input and $util

_INDEFINITE = re.compile(r"\.\.|\*|\[\s*\?|\[\s*-?\d*\s*[:,]")


@functools.lru_cache(maxsize=512)
def _jsonpath(path: str) -> Any:
    return jsonpath_ng.ext.parse(path)


def select(document: Any, path: str) -> Any:
    """The value at a JSONPath as API Gateway gives it: one value for a definite path (None if absent), a
    list for a path with wildcards, filters, slices or unions."""
    path = (path or "$").strip()
    if path == "$":
        return document
    matches = [match.value for match in _jsonpath(path).find(document)]
    if _INDEFINITE.search(path):
        return matches
    return matches[0] if matches else None


class UnparsableBody(ValueError):
    """A template read a body that is not JSON through ``$input.json``/``$input.path``."""


class _Input:
    def __init__(self, body: str, params: Mapping[str, Mapping[str, str]]):
        self._body = body
        self._params = params
        self._document: Any = None
        self._unparsable: str | None = None
        try:
            self._document = strict_json(body) if body.strip() else {}
        except ValueError as error:
            self._unparsable = str(error)

    @property
    def body(self) -> str:
        return self._body if self._body.strip() else "{}"

    def _parsed(self) -> Any:
        if self._unparsable is not None:
            raise UnparsableBody(f"the body is not JSON: {self._unparsable}")
        return self._document

    def json(self, path: str = "$") -> str:
        return _dumps(select(self._parsed(), path))

    def path(self, path: str = "$") -> Any:
        return wrap(select(self._parsed(), path))

    def params(self, name: str | None = None) -> Any:
        if name is None:
            return wrap(
                {kind: dict(self._params.get(kind) or {}) for kind in ("path", "querystring", "header")}
            )
        for kind in ("path", "querystring"):
            value = (self._params.get(kind) or {}).get(name)
            if value is not None:
                return value
        lowered = name.lower()
        for key, value in (self._params.get("header") or {}).items():
            if key.lower() == lowered:
                return value
        return ""


class _Util:
    """``$util``: the method names are the VTL ones."""

    @staticmethod
    def escapeJavaScript(value: Any) -> str:
        return escape_javascript(value)

    @staticmethod
    def parseJson(text: str) -> Any:
        return wrap(json.loads(text))

    @staticmethod
    def urlEncode(text: str) -> str:
        return quote_plus(_java_text(text), safe="*").replace("~", "%7E")

    @staticmethod
    def urlDecode(text: str) -> str:
        return unquote_plus(_java_text(text))

    @staticmethod
    def base64Encode(text: Any) -> str:
        data = text if isinstance(text, bytes) else _java_text(text).encode()
        return base64.b64encode(data).decode()

    @staticmethod
    def base64Decode(text: str) -> str:
        return base64.b64decode(_java_text(text)).decode("utf-8", errors="replace")


# --------------------------------------------------------------------------- rendering


@dataclass
class Rendered:
    """A rendered template and what it set in ``$context.responseOverride`` (status only if 100-599)."""

    text: str
    status_override: int | None = None
    header_overrides: dict[str, str] = field(default_factory=dict)


@functools.lru_cache(maxsize=256)
def _compiled(template: str) -> airspeed.Template:
    compiled = airspeed.Template(template)
    compiled.ensure_compiled()
    return compiled


def render(
    template: str,
    *,
    body: str | bytes = "",
    params: Mapping[str, Mapping[str, str]] | None = None,
    context: Mapping[str, Any] | None = None,
    stage_variables: Mapping[str, str] | None = None,
) -> Rendered:
    """Render an API Gateway mapping template (raises ``airspeed.TemplateError`` on a broken template)."""
    install()
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    context_map = wrap(dict(context or {}))
    override = context_map.setdefault("responseOverride", JsonMap())
    override.setdefault("status", None)
    override.setdefault("header", JsonMap())
    namespace = {
        "input": _Input(text, params or {}),
        "util": _Util(),
        "context": context_map,
        "stageVariables": wrap(dict(stage_variables or {})),
    }
    output = _compiled(template).merge(namespace)
    override = context_map.get("responseOverride") or {}
    status = override.get("status")
    if isinstance(status, str) and status.strip().isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        status = None
    headers = {str(name): _java_text(value) for name, value in (override.get("header") or {}).items()}
    return Rendered(output, status, headers)
