"""Two builds from two fresh installs give byte-identical layer and function archives, so a `pulumi up` in
CI never replaces an unchanged layer or updates an unchanged function."""

from __future__ import annotations

import compileall
import hashlib
import os
import shutil
import zipfile
from io import BytesIO
from pathlib import Path

from components.lambda_function import code_archive
from components.python_layer import POWERTOOLS_PACKAGES, installed, layer_archive
from localcloud.materialize import archive_zip

REPO_ROOT = Path(__file__).resolve().parents[2]


def fresh_install(sources: list[Path], target: Path, written_at: float) -> list[Path]:
    """A copy of ``sources`` as a new install leaves them: files written at ``written_at``, and compiled."""
    copies = []
    for source in sources:
        copy = target / source.name
        if source.is_dir():
            shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, copy)
        for path in [copy, *copy.rglob("*")] if copy.is_dir() else [copy]:
            os.utime(path, (written_at, written_at))
        if copy.is_dir():
            compileall.compile_dir(copy, quiet=2)
        else:
            compileall.compile_file(copy, quiet=2)
        copies.append(copy)
    return copies


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_the_powertools_layer_is_the_same_bytes_from_two_fresh_installs(tmp_path):
    sources = [installed(module) for module in POWERTOOLS_PACKAGES]
    first = fresh_install(sources, tmp_path / "first", written_at=1_700_000_000)
    second = fresh_install(sources, tmp_path / "second", written_at=1_800_000_000)

    assert sha256(archive_zip(layer_archive(first))) == sha256(archive_zip(layer_archive(second)))


def test_a_function_archive_is_the_same_bytes_from_two_checkouts(tmp_path):
    folder = REPO_ROOT / "functions" / "workflow_started"
    [first] = fresh_install([folder], tmp_path / "first", written_at=1_700_000_000)
    [second] = fresh_install([folder], tmp_path / "second", written_at=1_800_000_000)

    assert sha256(archive_zip(code_archive(first))) == sha256(archive_zip(code_archive(second)))


def test_archives_hold_no_bytecode_and_list_their_files_in_order(tmp_path):
    [package] = fresh_install([installed("jmespath")], tmp_path, written_at=1_700_000_000)

    names = zipfile.ZipFile(BytesIO(archive_zip(layer_archive([package])))).namelist()

    assert names == sorted(names)
    assert names and all(name.startswith("python/jmespath/") for name in names)
    assert not [name for name in names if "__pycache__" in name or name.endswith((".pyc", ".pyo"))]
