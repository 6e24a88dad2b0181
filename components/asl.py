"""Fill the named ``${Name}`` placeholders of an ASL definition (pure: no Pulumi, no AWS).

The Pulumi components call :func:`render_definition` inside ``Output.apply`` once the physical names are
known. A string that is exactly one placeholder takes the value with its type (``"${Capacity}"`` -> ``20``);
a placeholder inside longer text is replaced textually. JSONPath such as ``$.detail`` or ``$$.Task.Token``
is never a placeholder: only the ``${...}`` form is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

Substitution = str | int | bool

PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class PlaceholderError(ValueError):
    """The substitutions do not match the placeholders of a definition."""

    def __init__(self, missing: set[str], unknown: set[str]) -> None:
        self.missing = frozenset(missing)
        self.unknown = frozenset(unknown)
        problems = []
        if missing:
            problems.append(f"unfilled placeholders: {', '.join(sorted(missing))}")
        if unknown:
            problems.append(f"substitutions not used by the definition: {', '.join(sorted(unknown))}")
        super().__init__("; ".join(problems))


def _strings(node: Any) -> Iterator[str]:
    """Every string of a JSON document, object keys included."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def placeholders(template: str) -> set[str]:
    """Names of every ``${Name}`` placeholder in the JSON ``template``."""
    return {name for text in _strings(json.loads(template)) for name in PLACEHOLDER.findall(text)}


def _fill_text(text: str, substitutions: Mapping[str, Substitution]) -> str:
    return PLACEHOLDER.sub(lambda match: _as_text(substitutions[match.group(1)]), text)


def _as_text(value: Substitution) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(node: Any, substitutions: Mapping[str, Substitution]) -> Any:
    if isinstance(node, str):
        whole = PLACEHOLDER.fullmatch(node)
        if whole:
            return substitutions[whole.group(1)]
        return _fill_text(node, substitutions)
    if isinstance(node, dict):
        return {_fill_text(key, substitutions): _fill(value, substitutions) for key, value in node.items()}
    if isinstance(node, list):
        return [_fill(item, substitutions) for item in node]
    return node


def render_definition(template: str, substitutions: Mapping[str, Substitution]) -> str:
    """The definition with every placeholder filled, as indented JSON, keys in the template's order.

    Raises :class:`PlaceholderError` naming every placeholder left unfilled and every substitution the
    template does not use: either one means the program and the definition disagree.
    """
    document = json.loads(template)
    wanted = {name for text in _strings(document) for name in PLACEHOLDER.findall(text)}
    missing = wanted - set(substitutions)
    unknown = set(substitutions) - wanted
    if missing or unknown:
        raise PlaceholderError(missing, unknown)
    return json.dumps(_fill(document, substitutions), indent=2, ensure_ascii=False) + "\n"
