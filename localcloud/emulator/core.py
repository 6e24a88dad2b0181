"""What the service modules share: the session's Lambda runtime, the asynchronous delivery worker, and the
bookkeeping of parked executions that ``settle()`` reads.

- ``deliveries()``: one worker thread running queued deliveries in order (EventBridge rule targets,
  ``InvocationType=Event`` invokes), as AWS delivers them: after the call that caused them returned.
  It counts work that is queued or running, so ``settle()`` knows when the cascade is over.
- ``runtime()``: the in-process Lambda runtime of the current emulator session.
- ``register_worker``/``parked_while``/``is_quiescent``: every Step Functions execution worker is registered
  when it starts and forgotten once its thread has ended; a wait on something outside the execution (a task
  token, a heartbeat, a Wait state) marks it parked for its duration. An execution with a Parallel/Map state
  counts as parked as soon as one branch is parked.
- ``cached_jsonpath_parse()``: ``jsonpath_ng.ext.parse`` behind an LRU cache, installed once; both
  EventBridge and the Step Functions interpreter parse the same few expressions for every event.
- ``strict_json(text)``: JSON as AWS's services parse it: ``NaN``, ``Infinity`` and ``-Infinity`` are
  refused (Python's own parser accepts them; Jackson, behind AWS's JSON APIs, does not).
- ``client(service, region)``: the boto3 client the emulator's own code calls services with, one per
  service, region and boto3 default session (creating a client copies the session's event handlers,
  and moto starts a new default session per mock, to which error classes belong).
"""

from __future__ import annotations

import functools
import json
import logging
import queue
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import jsonpath_ng.ext

from localcloud.emulator.lambda_runtime import LambdaRuntime

LOG = logging.getLogger(__name__)


# --------------------------------------------------------------------------- asynchronous deliveries


class Deliveries:
    """One worker thread running queued deliveries in order; counts work that is queued or running."""

    def __init__(self) -> None:
        self._queue: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._lock = threading.Lock()
        self._pending = 0
        self._closed = False
        self._thread: threading.Thread | None = None

    def submit(self, job: Callable[[], None]) -> None:
        with self._lock:
            if self._closed:
                LOG.warning("emulator is shutting down: delivery dropped")
                return
            self._pending += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="localcloud-deliveries", daemon=True)
                self._thread.start()
        self._queue.put(job)

    def idle(self) -> bool:
        with self._lock:
            return self._pending == 0

    def _work(self) -> None:
        while (job := self._queue.get()) is not None:
            try:
                if not self._closed:
                    job()
            except Exception:
                LOG.exception("asynchronous delivery failed")
            finally:
                with self._lock:
                    self._pending -= 1

    def close(self) -> None:
        """Drop what is still queued, let the running delivery finish, and join the worker."""
        with self._lock:
            self._closed = True
            thread = self._thread
        self._queue.put(None)
        if thread is not None:
            thread.join()


_deliveries = Deliveries()
_runtime = LambdaRuntime()


def deliveries() -> Deliveries:
    """The delivery worker of the current emulator session."""
    return _deliveries


def runtime() -> LambdaRuntime:
    """The Lambda runtime of the current emulator session (its ``usage`` feeds the cost model)."""
    return _runtime


def new_session() -> None:
    """A fresh delivery worker and Lambda runtime (entering ``emulator()``)."""
    global _deliveries, _runtime
    _deliveries = Deliveries()
    _runtime = LambdaRuntime()


def close_deliveries() -> None:
    """Close the session's worker: what is submitted from now on is dropped (leaving ``emulator()``)."""
    _deliveries.close()


def end_session() -> None:
    """An idle worker in place of the closed one, once the session's executions are stopped."""
    global _deliveries
    _deliveries = Deliveries()


# --------------------------------------------------------------------------- parked executions

_workers: list[Any] = []
_workers_lock = threading.Lock()
_parked: dict[int, list[Callable[[], bool]]] = {}
_parked_lock = threading.Lock()


def register_worker(worker: Any) -> None:
    with _workers_lock:
        _workers.append(worker)


def _ended(worker: Any) -> bool:
    thread = getattr(worker, "_localcloud_thread", None)
    return thread is not None and thread.ident is not None and not thread.is_alive()


def workers() -> list[Any]:
    """The workers whose execution thread has not ended (an ended one is forgotten here: ``settle()``
    reads this list every few milliseconds, and a day's finished executions made each read longer)."""
    with _workers_lock:
        _workers[:] = [worker for worker in _workers if not _ended(worker)]
        return list(_workers)


def forget_workers() -> None:
    with _workers_lock:
        _workers.clear()


@contextmanager
def parked_while(pool: Any, released: Callable[[], bool]) -> Iterator[None]:
    """Mark the execution owning callback ``pool`` as waiting on something outside it."""
    if pool is None:
        yield
        return
    with _parked_lock:
        _parked.setdefault(id(pool), []).append(released)
    try:
        yield
    finally:
        with _parked_lock:
            _parked[id(pool)].remove(released)


def is_quiescent(worker: Any) -> bool:
    """The execution's thread has ended, or it waits on something outside it."""
    thread = getattr(worker, "_localcloud_thread", None)
    if thread is None or not thread.is_alive():
        return True
    env = worker.env
    if env is None:
        return False
    with _parked_lock:
        return any(not released() for released in _parked.get(id(env.callback_pool_manager), []))


# --------------------------------------------------------------------------- shared JSONPath cache

_jsonpath_lock = threading.Lock()


def cached_jsonpath_parse() -> Callable[[str], Any]:
    """``jsonpath_ng.ext.parse`` with an LRU cache, installed in ``jsonpath_ng.ext`` once."""
    with _jsonpath_lock:
        parse = jsonpath_ng.ext.parse
        if not hasattr(parse, "cache_info"):
            parse = functools.lru_cache(maxsize=4096)(parse)
            jsonpath_ng.ext.parse = parse
        return parse


# --------------------------------------------------------------------------- shared clients

_clients: weakref.WeakKeyDictionary[Any, dict[tuple[str, str], Any]] = weakref.WeakKeyDictionary()
_clients_lock = threading.Lock()


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def strict_json(text: str | bytes) -> Any:
    """``json.loads`` that refuses what AWS refuses (see the module doc); ``ValueError`` otherwise."""
    return json.loads(text, parse_constant=_no_constant)


def client(service: str, region: str) -> Any:
    """One boto3 client per service, region and default session (boto3 clients are thread-safe)."""
    with _clients_lock:
        clients = _clients.setdefault(boto3._get_default_session(), {})
        if (service, region) not in clients:
            clients[service, region] = boto3.client(service, region_name=region)
        return clients[service, region]


def run_once(install: Callable[[], None]) -> Callable[[], None]:
    """An ``install()`` that patches moto once per process, however many threads call it."""
    lock = threading.Lock()
    done = False

    @functools.wraps(install)
    def once() -> None:
        nonlocal done
        with lock:
            if not done:
                install()
                done = True

    return once
