"""Benchmark: the README's test command, timed (a script, not a test).

    .venv/bin/python benchmarks/suite.py            # three runs: each wall time, the median, the target
    .venv/bin/python benchmarks/suite.py --runs 1

Each run is exactly the README's command (``.venv/bin/python -m pytest``, whose workers come from
pyproject's addopts) plus ``--durations=0``, so the script can also say where the time went: the test
modules with the most time in setup, call and teardown, summed over the last run.
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
TARGET_SECONDS = 60
DURATION = re.compile(r"^([0-9.]+)s (setup|call|teardown)\s+(\S+?)::")


def one_run() -> tuple[float, str, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [str(REPO / ".venv/bin/python"), "-m", "pytest", "-q", "--durations=0"],
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
    walls = []
    output = ""
    for n in range(1, args.runs + 1):
        seconds, outcome, output = one_run()
        walls.append(seconds)
        print(f"run {n}: {seconds:6.1f} s wall  {outcome}")
    verdict = "within" if median(walls) <= TARGET_SECONDS else "OVER"
    print(f"median of {len(walls)}: {median(walls):.1f} s ({verdict} the {TARGET_SECONDS} s target)")
    print("where the time went (last run, seconds summed over the workers, per module):")
    for module, seconds in where_the_time_went(output, args.top):
        print(f"  {seconds:6.1f} s  {module}")
    print(host_speed())


if __name__ == "__main__":
    main()
