"""Benchmark: the `simulate` command end to end, timed (a script, not a test).

    .venv/bin/python benchmarks/simulated_day.py                    # 100 and 1000 orders, 3 runs each
    .venv/bin/python benchmarks/simulated_day.py --orders 100 --runs 1
    .venv/bin/python benchmarks/simulated_day.py --orders 100 --baseline 00fd878   # before/after

Each run is ``python -m localcloud simulate --stack local --orders N --seed S`` in a fresh process:
deploy, the day through the served front door, the checks and the month. It prints each run's wall
time, the median against the targets (100 orders: 8 s, 1000 orders: 60 s), whether the invariants held,
and whether every run of a size ended with the same outcome table (the day must not depend on the
machine's speed).

``--baseline REV`` also runs the same days on an earlier commit (checked out in a temporary git
worktree, same interpreter), alternating with this checkout run by run: on a host whose speed drifts,
only figures taken side by side compare.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from statistics import median
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe, host_speed

REPO = Path(__file__).resolve().parent.parent
TARGETS = {100: 8.0, 1000: 60.0}
OUTCOME_ROW = re.compile(
    r"^[│|] ((?:completed|cancelled|timed out|rejected|invalid)[^│|]*?)\s*[│|]\s*(\d+)\s*[│|]"
)


def one_run(orders: int, seed: int, repo: Path = REPO) -> tuple[float, bool, tuple[tuple[str, int], ...]]:
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
        cwd=repo,
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


@contextlib.contextmanager
def checkout(revision: str) -> Iterator[Path]:
    """``revision`` of this repository in a temporary worktree (removed afterwards)."""
    with tempfile.TemporaryDirectory(prefix="baseline-") as parent:
        tree = Path(parent) / "tree"
        subprocess.run(
            ["git", "worktree", "add", "--detach", "--quiet", str(tree), revision], cwd=REPO, check=True
        )
        try:
            yield tree
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=REPO, check=False)


def report(label: str, orders: int, walls: list[float], tables: set[Any]) -> None:
    target = TARGETS.get(orders)
    verdict = (
        ""
        if target is None
        else f" ({'within' if median(walls) <= target else 'OVER'} the {target:g} s target)"
    )
    same = (
        "the same outcome table every run" if len(tables) == 1 else f"{len(tables)} DIFFERENT outcome tables"
    )
    print(f"{label}{orders:5d} orders: median {median(walls):.1f} s of {len(walls)}{verdict}; {same}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, action="append", help="day sizes (default 100 and 1000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline", metavar="REV", help="also run the days on this commit, alternating")
    args = parser.parse_args()
    print(describe())
    print(host_speed())
    with contextlib.ExitStack() as stack:
        trees = {"": REPO}
        if args.baseline:
            trees = {
                "this checkout: ": REPO,
                f"{args.baseline}: ": stack.enter_context(checkout(args.baseline)),
            }
        for orders in args.orders or [100, 1000]:
            walls: dict[str, list[float]] = {label: [] for label in trees}
            tables: dict[str, set[Any]] = {label: set() for label in trees}
            for n in range(1, args.runs + 1):
                for label, tree in trees.items():
                    seconds, held, outcomes = one_run(orders, args.seed, tree)
                    walls[label].append(seconds)
                    tables[label].add(outcomes)
                    print(
                        f"{label}{orders:5d} orders, run {n}: {seconds:6.1f} s  "
                        f"invariants {'hold' if held else 'BROKEN'}  {dict(outcomes)}"
                    )
            for label in trees:
                report(label, orders, walls[label], tables[label])
    print(host_speed())


if __name__ == "__main__":
    main()
