"""`python -m localcloud <command>`: run the program offline.

Commands register themselves in `COMMANDS` (name → (help, add_arguments, run)); adding one is a
function taking the parsed arguments and a `rich` console, plus one `command(...)` call.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from localcloud import serve, simulator
from localcloud.stack_options import checked_config, project_argument, secret_overrides, stack_argument

Run = Callable[[argparse.Namespace, Console], int]
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Run]] = {}


def command(name: str, help: str, add_arguments: Callable[[argparse.ArgumentParser], None]):
    def register(run: Run) -> Run:
        COMMANDS[name] = (help, add_arguments, run)
        return run

    return register


def up_arguments(parser: argparse.ArgumentParser) -> None:
    stack_argument(parser)
    project_argument(parser)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a resource type is unsupported")
    parser.add_argument(
        "--endpoint-url",
        help="deploy into this AWS-compatible endpoint over HTTP (e.g. another emulator) instead of the "
        "in-process one; the endpoint must not hold the stack yet",
    )
    parser.add_argument("--outputs-file", type=Path, help="write the stack outputs here as JSON")


def print_summary(console: Console, summary, outputs: dict, where: str = "the local emulator") -> None:
    table = Table(title=f"Deployed stack {summary.stack!r} into {where}")
    table.add_column("Resource type")
    for action in ("created", "updated", "unchanged"):
        table.add_column(action, justify="right")
    for type_, counts in summary.by_type().items():
        table.add_row(type_, *(str(counts[action]) for action in ("created", "updated", "unchanged")))
    console.print(table)
    if summary.unsupported:
        console.print(f"[bold red]NOT CREATED — unsupported by the local cloud ({len(summary.unsupported)}):")
        for type_, name in summary.unsupported:
            console.print(f"[red]  {type_}  {name}")
    if summary.removed:
        console.print("[yellow]No longer declared (left in the emulator):")
        for type_, name in summary.removed:
            console.print(f"[yellow]  {type_}  {name}")
    outputs_table = Table(title="Outputs")
    outputs_table.add_column("Output")
    outputs_table.add_column("Value")
    for key, value in outputs.items():
        outputs_table.add_row(key, str(value))
    console.print(outputs_table)


@command(
    "up", "materialise the stack into the in-process emulator and print the deploy summary", up_arguments
)
def up(args: argparse.Namespace, console: Console) -> int:
    overrides = checked_config(args.config, args.stack, repo=args.project)
    if args.endpoint_url:
        from localcloud import endpoint

        deployed = endpoint.deploy(
            args.endpoint_url, args.stack, overrides, repo=args.project, secrets=secret_overrides(args.secret)
        )
        summary, outputs = deployed.summary, deployed.outputs
        print_summary(console, summary, outputs, where=args.endpoint_url)
        if endpoint.emulator_modules():  # this path's promise: the target, not an emulator here, did it
            raise SystemExit(f"deploying to {args.endpoint_url} imported the in-process emulator")
    else:
        from localcloud.cloud import LocalCloud

        with LocalCloud.running(
            args.stack, overrides, repo=args.project, secrets=secret_overrides(args.secret)
        ) as cloud:
            summary, outputs = cloud.summary, cloud.outputs
            print_summary(console, summary, outputs)
    if args.outputs_file:
        args.outputs_file.write_text(json.dumps(outputs, indent=2))
    return 1 if summary.unsupported and args.strict else 0


# --- `simulate`: a conference day (implemented in localcloud.simulator) ---------------------------------
@command(
    "simulate",
    "run a simulated conference day, check its invariants and model its cost",
    simulator.add_arguments,
)
def simulate(args: argparse.Namespace, console: Console) -> int:
    return simulator.command(args, console)


# --- `serve`: the stack's APIs and an AWS endpoint on 127.0.0.1 (implemented in localcloud.serve) ------
@command(
    "serve",
    "deploy the stack, then serve its REST APIs and an AWS endpoint on 127.0.0.1 until Ctrl-C",
    serve.add_arguments,
)
def serve_stack(args: argparse.Namespace, console: Console) -> int:
    return serve.command(args, console)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m localcloud", description=__doc__.splitlines()[0])
    commands = root.add_subparsers(dest="command", required=True)
    for name, (help_text, add_arguments, run) in COMMANDS.items():
        sub = commands.add_parser(name, help=help_text)
        add_arguments(sub)
        sub.set_defaults(run=run)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    # The Step Functions interpreter logs every caught error (e.g. a timeout the workflow catches).
    logging.getLogger("moto").setLevel(logging.CRITICAL)
    console = Console(width=None if sys.stdout.isatty() else 160)
    return args.run(args, console)


if __name__ == "__main__":
    sys.exit(main())
