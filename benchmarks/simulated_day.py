"""Benchmark: simulated orders per second through the local cloud (a script, not a test).

    .venv/bin/python benchmarks/simulated_day.py                 # 100 and 1000 orders
    .venv/bin/python benchmarks/simulated_day.py --orders 100 --profile  # top functions by cumulative time

Each size runs a fresh ``local`` stack (deploy excluded from the rate). Prints orders/s, the day's wall
time, whether every invariant held, the date and the CPU count.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import logging
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
for variable, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
    os.environ.setdefault(variable, value)

from localcloud import simulator  # noqa: E402
from localcloud.cloud import LocalCloud  # noqa: E402
from localcloud.emulator.clock import VirtualClock  # noqa: E402


def one_day(orders: int, seed: int, profile: bool) -> None:
    with LocalCloud.running("local", clock=VirtualClock()) as cloud:
        menu_item = cloud.table("shop-data-config").get_item(Key={"PK": "menu"})["Item"]
        plan = simulator.plan_day(
            orders, seed=seed, menu=simulator.menu_from_item(menu_item), capacity=20, close_shop_at=0.5
        )
        profiler = cProfile.Profile() if profile else None
        if profiler:
            profiler.enable()
        started = time.perf_counter()
        result = simulator.run_day(cloud, plan)
        seconds = time.perf_counter() - started
        if profiler:
            profiler.disable()
    print(
        f"{orders:5d} orders: {seconds:7.1f} s  {orders / seconds:6.1f} orders/s  "
        f"invariants {'hold' if result.ok else 'BROKEN: ' + '; '.join(result.problems[:3])}"
    )
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, action="append", help="day sizes (default 100 and 1000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    logging.getLogger("moto").setLevel(logging.CRITICAL)
    print(f"{datetime.date.today().isoformat()}  nproc={os.cpu_count()}  python {sys.version.split()[0]}")
    for orders in args.orders or [100, 1000]:
        one_day(orders, args.seed, profile=args.profile)


if __name__ == "__main__":
    main()
