"""Command-line options shared by the `localcloud` commands: which stack, and config overrides.

`localcloud.cli` and the commands it runs (`localcloud.simulator`) both use them; keeping them here lets
the CLI import its commands without any command importing the CLI back.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from localcloud import program


def stack_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", default="local", choices=program.stack_names(), help="stack to deploy")
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one setting of the stack (repeatable), e.g. capacity=3",
    )


def config_overrides(pairs: Sequence[str]) -> dict[str, str]:
    overrides = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not key:
            raise SystemExit(f"--config expects KEY=VALUE, got {pair!r}")
        overrides[key.strip()] = value
    return overrides
