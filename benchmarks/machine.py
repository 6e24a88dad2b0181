"""What the benchmarks print about the machine they ran on (a figure means little without it).

The same machine is not always equally fast: on a shared host the same code measured a third slower an
hour apart. ``host_speed()`` times a fixed pure-Python loop, so two figures can be compared only when
their loops took about as long; the benchmarks print it before and after their runs."""

from __future__ import annotations

import datetime
import os
import platform
import sys
import time
from pathlib import Path
from statistics import median

LOOP_STEPS = 10_000_000


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def describe() -> str:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"{datetime.date.today().isoformat()}  {usable} usable cores ({cpu_model()})  "
        f"Python {sys.version.split()[0]}  {platform.system()} {platform.release()}"
    )


def host_speed() -> str:
    """How long a fixed pure-Python loop takes now (median of three): the host's speed at this moment."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for step in range(LOOP_STEPS):
            total += step
        times.append(time.perf_counter() - started)
    return f"host speed: a {LOOP_STEPS:,}-step Python loop takes {median(times):.2f} s (lower is faster)"
