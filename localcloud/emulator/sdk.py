"""The request path every service shares: botocore (the SDK under every client) and moto's dispatch.

Every ``boto3.session.Session`` (the tests', each function's, moto's own) gets a new botocore loader,
and each loader parsed the same JSON service models, endpoint rule sets and partitions again: measured
on this project, a third of the test suite's samples were inside client creation and a quarter in
``json.loads`` of those files. A loader only ever reads files that ship with botocore (plus
``~/.aws/models``), so loaders with the same search paths can share one cache of what they read; the
cache holds what one loader already keeps for its lifetime, and nobody writes to those models.

moto's dispatch listed the methods of the service's response class (``inspect.getmembers``) on every
request, to find the action's handler: the list is now kept per class. Classes are complete once the
service modules have patched them, which ``emulator.install()`` does before any request.

``install()`` also raises the garbage collector's thresholds: the emulator allocates many short-lived
objects per request (botocore's and moto's request/response machinery), and full collections were
measured at a fifth of a simulated day's time. Reference counting still frees almost everything at
once; the cyclic collector just runs less often.

Tests: ``tests/localcloud/test_emulator_sdk.py``.
"""

from __future__ import annotations

import functools
import gc
import threading
from typing import Any

from localcloud.emulator.core import run_once

# gen-0 collection after this many net allocations (CPython's default is 700), then gen 1 and gen 2 as
# rarely as their defaults relative to it.
GC_THRESHOLDS = (50_000, 20, 20)

_caches: dict[tuple[Any, ...], dict[Any, Any]] = {}
_lock = threading.Lock()


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
    gc.set_threshold(*GC_THRESHOLDS)


def shared_caches() -> int:
    """How many distinct loader caches the process holds (one per set of search paths)."""
    with _lock:
        return len(_caches)
