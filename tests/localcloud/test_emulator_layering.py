"""The emulator is the lowest layer of the local cloud, and the CLI sits on top of its commands."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LOCALCLOUD = Path(__file__).resolve().parents[2] / "localcloud"
ABOVE_THE_EMULATOR = {
    "cloud",
    "materialize",
    "program",
    "simulator",
    "cli",
    "costs",
    "usage",
    "stack_options",
}


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("path", sorted((LOCALCLOUD / "emulator").glob("*.py")), ids=lambda path: path.name)
def test_emulator_modules_import_nothing_above_the_emulator(path):
    above = {f"localcloud.{name}" for name in ABOVE_THE_EMULATOR}
    assert sorted(module for module in imported_modules(path) if module in above) == []


def test_the_cli_imports_the_simulator_and_never_the_reverse():
    assert "localcloud.simulator" in imported_modules(LOCALCLOUD / "cli.py")
    assert "localcloud.cli" not in imported_modules(LOCALCLOUD / "simulator.py")
