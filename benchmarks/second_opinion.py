"""Benchmark: the same journey on the local cloud and on MiniStack, side by side in one run (a script, not a
test).

    .venv/bin/python benchmarks/second_opinion.py              # 5 orders each, alternating targets
    .venv/bin/python benchmarks/second_opinion.py --orders 10

Each target gets the real `local` stack (the local cloud in this process; MiniStack over HTTP, deployed by
`localcloud.endpoint`), then walks orders one after another from the scan to COMPLETED through both
workflows (`localcloud.second_opinion.Shop.walk_to_completed`). It prints each target's deploy time and
median order, and the ratios, which are what to compare: this host's speed moves 2-3x within an hour.
MiniStack comes from `.ministack` (`python3 -m venv .ministack && .ministack/bin/pip install -r
.ci/ministack.txt`).
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

from localcloud import endpoint  # noqa: E402
from localcloud.second_opinion import Shop, running_ministack  # noqa: E402


def walk(shop: Shop, orders: int, label: str) -> list[float]:
    times = []
    for number in range(orders):
        started = time.perf_counter()
        shop.walk_to_completed(f"{label}-customer-{number}")
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=5)
    args = parser.parse_args()
    print(describe())
    print(host_speed())
    from localcloud.cloud import LocalCloud

    with running_ministack() as url:
        started = time.perf_counter()
        remote = endpoint.deploy(url, "local")
        remote_deploy = time.perf_counter() - started
        started = time.perf_counter()
        with LocalCloud.running("local") as cloud:
            local_deploy = time.perf_counter() - started
            local_shop, remote_shop = Shop(cloud), Shop(remote)
            local_times, remote_times = [], []
            for _ in range(args.orders):  # alternating, so a change in the host's speed hits both alike
                local_times += walk(local_shop, 1, "local")
                remote_times += walk(remote_shop, 1, "ministack")
    print(
        f"deploy      local cloud {local_deploy:6.2f} s   MiniStack {remote_deploy:6.2f} s   "
        f"ratio {remote_deploy / local_deploy:4.1f}x"
    )
    local_order, remote_order = median(local_times), median(remote_times)
    print(
        f"one order   local cloud {local_order:6.2f} s   MiniStack {remote_order:6.2f} s   "
        f"ratio {remote_order / local_order:4.1f}x   (median of {args.orders} each)"
    )
    print(host_speed())


if __name__ == "__main__":
    main()
