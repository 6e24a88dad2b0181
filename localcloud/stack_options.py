"""Command-line options shared by the `localcloud` commands: which project and stack, config overrides and
secrets.

`localcloud.cli` and the commands it runs (`localcloud.simulator`) both use them; keeping them here lets
the CLI import its commands without any command importing the CLI back.
"""

from __future__ import annotations

import argparse
import difflib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from localcloud import program

# Provider settings a stack may carry besides the project's own.
PROVIDER_SETTINGS = frozenset({"aws:region"})


def stack_argument(parser: argparse.ArgumentParser) -> None:
    stacks = sorted({name for repo in program.project_dirs() for name in program.stack_names(repo)})
    parser.add_argument("--stack", default="local", choices=stacks, help="stack to deploy")
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one setting of the stack (repeatable), e.g. capacity=3",
    )


def whole_number(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high``, refused at parse time otherwise."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected a whole number from {low} to {high}, got {text!r}"
            ) from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected a whole number from {low} to {high}, got {value}")
        return value

    return parse


def fraction(text: str) -> float:
    """An argparse type: a number from 0 to 1 (a point of the day)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got {text!r}") from None
    if not 0 <= value <= 1:  # also refuses nan
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got {text}")
    return value


def project_argument(parser: argparse.ArgumentParser) -> None:
    """`--project` (a folder of this repo with a Pulumi.yaml) and `--secret`, for the commands that deploy
    any project (`up`, `serve`)."""

    def project(value: str) -> Path:
        try:
            return program.project_dir(value)
        except FileNotFoundError as missing:
            raise argparse.ArgumentTypeError(str(missing)) from None

    parser.add_argument(
        "--project",
        type=project,
        default=program.REPO_ROOT,
        metavar="FOLDER",
        help="the Pulumi project to deploy: . (the shop, default) or fulfillment",
    )
    parser.add_argument(
        "--secret",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set one secret of the stack (repeatable, never printed), e.g. usOrdersApiKey=...; a secret "
        "the project declares and no --secret gives gets a random value",
    )


def config_overrides(pairs: Sequence[str]) -> dict[str, str]:
    overrides = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not key:
            raise SystemExit(f"--config expects KEY=VALUE, got {pair!r}")
        overrides[key.strip()] = value
    return overrides


def checked_config(pairs: Sequence[str], stack: str, repo: Path = program.REPO_ROOT) -> dict[str, str]:
    """`--config` pairs the stack accepts, checked before anything is deployed: a key the project does not
    declare (a typo such as ``capcity``) or a value its settings refuse stops the command, naming each."""
    overrides = config_overrides(pairs)
    project = program.project_name(repo)
    declared = set((program.yaml_file(repo / "Pulumi.yaml") or {}).get("config") or {})
    problems = []
    for key in overrides:
        namespace, _, name = key.rpartition(":")
        if key in PROVIDER_SETTINGS or (namespace in ("", project) and name in declared):
            continue
        close = difflib.get_close_matches(name, sorted(declared), n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        problems.append(f"--config {key}: not a setting of project {project}{hint} (Pulumi.yaml lists them)")
    secrets = set(program.declared_secrets(repo))
    problems += [
        f"--config {key}: a secret of project {project}; set it with --secret (never as plain config)"
        for key in qualified(overrides, project)
        if key in secrets
    ]
    if problems:
        raise SystemExit("\n".join(problems))
    try:
        values = {**program.stack_config(stack, repo), **qualified(overrides, project)}
    except FileNotFoundError as missing:
        raise SystemExit(f"--stack {stack}: {missing}") from None
    if repo == program.REPO_ROOT:
        import config  # the shop's typed settings: every value checked exactly as `pulumi up` checks it

        prefix = f"{project}:"
        try:
            config.load_config(
                stack,
                {key[len(prefix) :]: value for key, value in values.items() if key.startswith(prefix)},
                values.get("aws:region"),
            )
        except config.ConfigError as refused:
            raise SystemExit(str(refused)) from None
    return overrides


def qualified(overrides: Mapping[str, str], project: str) -> dict[str, str]:
    return {key if ":" in key else f"{project}:{key}": value for key, value in overrides.items()}


def secret_overrides(pairs: Sequence[str]) -> dict[str, str]:
    """Like `config_overrides`, but a malformed pair is refused without echoing it."""
    secrets = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not key.strip():
            raise SystemExit("--secret expects KEY=VALUE (the value is not shown)")
        secrets[key.strip()] = value
    return secrets
