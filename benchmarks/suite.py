"""Benchmark: the README's test command and its fast lane, timed side by side (a script, not a test).

    .venv/bin/python benchmarks/suite.py            # three rounds, each the full suite then the fast lane
    .venv/bin/python benchmarks/suite.py --runs 1

Each full run is exactly the README's command (``.venv/bin/python -m pytest``, whose workers come from
pyproject's addopts) plus ``--durations=0``, so the script can also say where the time went: the test
modules with the most time in setup, call and teardown, summed over the last run. Each fast run is the
README's fast lane (``-m fast``: everything that needs no local cloud). The target is a ratio, measured in
one run because this host's speed moves 2-3x within an hour: the fast lane in at most a third of the
full suite's time.
"""

from __future__ import annotations

import argparse
import collections
import re
import subprocess
import sys
import time
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe, host_speed

REPO = Path(__file__).resolve().parent.parent
FAST_LANE_TARGET = 1 / 3
DURATION = re.compile(r"^([0-9.]+)s (setup|call|teardown)\s+(\S+?)::")


def one_run(*extra: str) -> tuple[float, str, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [str(REPO / ".venv/bin/python"), "-m", "pytest", "-q", "--durations=0", *extra],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    lines = done.stdout.strip().splitlines()
    outcome = lines[-1] if lines else f"exit {done.returncode}"
    if done.returncode != 0:
        failed = [line for line in lines if line.startswith(("FAILED", "ERROR"))]
        outcome = f"FAILED (exit {done.returncode}): {outcome}" + "".join(f"\n    {line}" for line in failed)
    return seconds, outcome, done.stdout


def where_the_time_went(output: str, top: int) -> list[tuple[str, float]]:
    per_module: collections.Counter[str] = collections.Counter()
    for line in output.splitlines():
        if match := DURATION.match(line):
            per_module[match.group(3)] += float(match.group(1))
    return per_module.most_common(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--top", type=int, default=8, help="slowest modules to list")
    args = parser.parse_args()
    print(describe())
    print(host_speed())
    walls, fast_walls = [], []
    output = ""
    for n in range(1, args.runs + 1):
        seconds, outcome, output = one_run()
        walls.append(seconds)
        print(f"round {n}: full suite {seconds:6.1f} s wall  {outcome}")
        seconds, outcome, _ = one_run("-m", "fast")
        fast_walls.append(seconds)
        print(f"round {n}: fast lane  {seconds:6.1f} s wall  {outcome}")
    ratio = median(fast_walls) / median(walls)
    verdict = "within" if ratio <= FAST_LANE_TARGET else "OVER"
    print(
        f"median of {len(walls)}: full {median(walls):.1f} s, fast lane {median(fast_walls):.1f} s: "
        f"ratio {ratio:.2f} ({verdict} the {FAST_LANE_TARGET:.2f} target)"
    )
    print("where the time went (last run, seconds summed over the workers, per module):")
    for module, seconds in where_the_time_went(output, args.top):
        print(f"  {seconds:6.1f} s  {module}")
    print(host_speed())


if __name__ == "__main__":
    main()
