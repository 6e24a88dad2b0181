"""Benchmark: the `simulate` command end to end, timed (a script, not a test).

    .venv/bin/python benchmarks/simulated_day.py                    # 100 and 1000 orders, 3 runs each
    .venv/bin/python benchmarks/simulated_day.py --orders 100 --runs 1

Each run is ``python -m localcloud simulate --stack local --orders N --seed S`` in a fresh process:
deploy, the day through the served front door, the checks and the month. It prints each run's wall
time, the median against the targets (100 orders: 8 s, 1000 orders: 60 s), whether the invariants held,
and whether every run of a size ended with the same outcome table (the day must not depend on the
machine's speed).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe

REPO = Path(__file__).resolve().parent.parent
TARGETS = {100: 8.0, 1000: 60.0}
OUTCOME_ROW = re.compile(
    r"^[│|] ((?:completed|cancelled|timed out|rejected|invalid)[^│|]*?)\s*[│|]\s*(\d+)\s*[│|]"
)


def one_run(orders: int, seed: int) -> tuple[float, bool, tuple[tuple[str, int], ...]]:
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "localcloud",
            "simulate",
            "--stack",
            "local",
            f"--orders={orders}",
            f"--seed={seed}",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={
            "COLUMNS": "160",
            "PATH": "/usr/bin:/bin",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        },
    )
    seconds = time.perf_counter() - started
    outcomes = tuple(
        (match.group(1), int(match.group(2)))
        for line in done.stdout.splitlines()
        if (match := OUTCOME_ROW.match(line))
    )
    return seconds, done.returncode == 0 and "All invariants hold." in done.stdout, outcomes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, action="append", help="day sizes (default 100 and 1000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(describe())
    for orders in args.orders or [100, 1000]:
        walls, tables = [], set()
        for n in range(1, args.runs + 1):
            seconds, held, outcomes = one_run(orders, args.seed)
            walls.append(seconds)
            tables.add(outcomes)
            print(
                f"{orders:5d} orders, run {n}: {seconds:6.1f} s  "
                f"invariants {'hold' if held else 'BROKEN'}  {dict(outcomes)}"
            )
        target = TARGETS.get(orders)
        verdict = (
            ""
            if target is None
            else f" ({'within' if median(walls) <= target else 'OVER'} the {target:g} s target)"
        )
        same = (
            "the same outcome table every run"
            if len(tables) == 1
            else f"{len(tables)} DIFFERENT outcome tables"
        )
        print(f"{orders:5d} orders: median {median(walls):.1f} s of {len(walls)}{verdict}; {same}")


if __name__ == "__main__":
    main()
