"""Waiting for something the cloud does on its own time (an event delivered, a workflow parked)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def eventually(check: Callable[[], Any], what: str, limit: float, interval: float = 0.05) -> Any:
    """``check()``'s first truthy answer; ``TimeoutError`` naming ``what`` once ``limit`` seconds passed."""
    deadline = time.monotonic() + limit
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {limit} s waiting for {what}")
        time.sleep(interval)
