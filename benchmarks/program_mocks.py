"""Benchmark: evaluating each project's whole program under Pulumi mocks, per stack (a script, not a test).

    .venv/bin/python benchmarks/program_mocks.py          # every stack of both projects, median of 3

This is what every property test, policy rule and deploy into the local cloud starts from. The target
is at most 3 s per stack.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from statistics import median

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
from machine import describe, host_speed  # noqa: E402

from localcloud import program  # noqa: E402

TARGET_SECONDS = 3.0
SECRETS = {"fulfillment": {"fulfillment:usOrdersApiKey": "benchmark-partner-api-key"}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(describe())
    print(host_speed())
    for folder in program.project_dirs():
        project = program.project_name(folder)
        for stack in program.stack_names(folder):
            times = []
            for _ in range(args.runs):
                started = time.perf_counter()
                run = program.run(stack, repo=folder, secrets=SECRETS.get(project))
                times.append(time.perf_counter() - started)
            verdict = "ok" if median(times) <= TARGET_SECONDS else "OVER TARGET"
            print(
                f"{project}/{stack:8s} {len(run.resources):4d} resources  median {median(times):5.2f} s "
                f"of {args.runs} (min {min(times):.2f}, max {max(times):.2f})  {verdict}"
            )

    print(host_speed())


if __name__ == "__main__":
    main()
