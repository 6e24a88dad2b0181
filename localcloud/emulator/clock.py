"""The clock the workflows' waits run on: real time, or a virtual clock that moves only when told to.

On AWS a task's ``TimeoutSeconds``, a ``HeartbeatSeconds`` or a Wait state counts wall-clock time. In the
emulator that made outcomes depend on the machine's speed: a slow machine let a customer's 3-second
timeout fire before the customer's order call arrived. With a ``VirtualClock`` those waits count virtual
seconds, which pass only in ``advance()``: a slow machine sees exactly the same timeouts as a fast one,
and a 15-minute timeout costs no real time.

- ``RealClock``: the default (``serve``, where people wait in real time). ``wait`` is ``Event.wait``.
- ``VirtualClock``: ``now()`` starts at 0. ``wait(event, timeout)`` returns True as soon as the event is
  set, and False once the clock has been moved to ``deadline = now() + timeout`` or past it, never
  before: the semantics of ``TimeoutSeconds`` (a task started at t times out at t + TimeoutSeconds, and
  an answer given at any earlier time wins). ``move_to(t)`` sets the time and wakes the waits that are
  due; ``emulator.advance(seconds)`` steps through the due deadlines in order, letting each cascade
  settle before the next, so a wait started by a timeout counts from the moment that timeout fired.
- ``ClockEvent``: a ``threading.Event`` whose ``wait(timeout)`` asks the session's clock; the Step
  Functions module makes the interpreter create these for its callback, heartbeat, task-timeout and
  Wait-state events.

What stays on real time: Retry intervals of a state (``IntervalSeconds`` sleeps; they change when a
retry runs, not its result), SQS visibility timeouts and batching windows, Lambda's remaining time and
the asynchronous invoke retries. None of them decides an order's outcome.

Tests: ``tests/localcloud/test_emulator_clock.py``.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable


class RealClock:
    """Waits are ``Event.wait`` with their real timeout."""

    virtual = False

    def wait(self, event: ClockEvent, timeout: float) -> bool:
        return event.wait_real(timeout)

    def due(self, deadline: float) -> bool:
        return False

    def deadline(self, timeout: float) -> float:
        return float("inf")


class VirtualClock:
    """Virtual seconds since the session started; they pass only in ``move_to``."""

    virtual = True

    def __init__(self) -> None:
        self._now = 0.0
        self._lock = threading.Lock()
        self._waits: dict[int, tuple[float, ClockEvent]] = {}
        self._ids = itertools.count()

    def now(self) -> float:
        return self._now

    def deadline(self, timeout: float) -> float:
        return self._now + max(0.0, float(timeout))

    def due(self, deadline: float) -> bool:
        return self._now >= deadline

    def next_deadline(self) -> float | None:
        """The earliest deadline of a wait still waiting (None when nothing waits on the clock)."""
        with self._lock:
            pending = [deadline for deadline, event in self._waits.values() if not event.is_set()]
        return min(pending, default=None)

    def wait(self, event: ClockEvent, timeout: float) -> bool:
        deadline = self.deadline(timeout)
        key = next(self._ids)
        with self._lock:
            self._waits[key] = (deadline, event)
        try:
            return event.wait_until(lambda: self._now >= deadline)
        finally:
            with self._lock:
                del self._waits[key]

    def move_to(self, time: float) -> None:
        """Set the time (never backwards) and wake every wait whose deadline is now due."""
        with self._lock:
            if time < self._now:
                raise ValueError(f"the clock cannot go back from {self._now} to {time}")
            self._now = float(time)
            due = [event for deadline, event in self._waits.values() if deadline <= self._now]
        for event in due:
            event.poke()


Clock = RealClock | VirtualClock

_clock: Clock = RealClock()


def current() -> Clock:
    """The clock of the current emulator session."""
    return _clock


def use(clock: Clock | None) -> None:
    """Make ``clock`` the session's clock (``None``: real time)."""
    global _clock
    _clock = clock if clock is not None else RealClock()


class ClockEvent:
    """``threading.Event`` with the same methods, whose timed ``wait`` counts on the session's clock."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._flag = False

    def is_set(self) -> bool:
        return self._flag

    isSet = is_set  # threading.Event's old name; moto's code may use either

    def set(self) -> None:
        with self._cond:
            self._flag = True
            self._cond.notify_all()

    def clear(self) -> None:
        with self._cond:
            self._flag = False

    def wait(self, timeout: float | None = None) -> bool:
        if timeout is None:
            return self.wait_until(lambda: False)
        return _clock.wait(self, timeout)

    def wait_real(self, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._flag, timeout)

    def wait_until(self, expired: Callable[[], bool]) -> bool:
        """Until set (True) or ``expired()`` holds when checked, at the start or after a ``poke`` (False)."""
        with self._cond:
            while not self._flag:
                if expired():
                    return False
                self._cond.wait()
            return True

    def poke(self) -> None:
        """Wake the waits so that they check their deadline again."""
        with self._cond:
            self._cond.notify_all()
