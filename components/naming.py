"""The few physical names AWS makes us choose (everything else is autonamed by Pulumi)."""

from __future__ import annotations

import hashlib

import pulumi


def stack_scoped(name: str, *, limit: int = 64, separator: str = "-") -> str:
    """`<project>-<stack>-<name>`, shortened with a stable hash when AWS's length limit requires it."""
    full = separator.join((pulumi.get_project(), pulumi.get_stack(), name))
    if len(full) <= limit:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:8]
    return f"{full[: limit - 9]}-{digest}"
