"""Run a project Lambda handler in this process, the way the Lambda runtime would load it."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

Handler = Callable[[dict[str, Any], Any], Any]


def load_handler(code_dir: Path, handler: str = "handler.handler", alias: str | None = None) -> Handler:
    """Import ``<module>.<function>`` from ``code_dir`` as Lambda does (the folder is the import root).

    Sibling modules of one function are dropped from ``sys.modules`` after the import, so two functions
    may each have a module of the same name without one shadowing the other.
    """
    module_name, _, function_name = handler.rpartition(".")
    code_dir = Path(code_dir).resolve()
    before = set(sys.modules)
    sys.path.insert(0, str(code_dir))
    try:
        spec = importlib.util.spec_from_file_location(
            alias or f"lambda_{code_dir.name}_{module_name}", code_dir / f"{module_name}.py"
        )
        if spec is None or spec.loader is None:
            raise ImportError(f"no module {module_name!r} in {code_dir}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(code_dir))
        for name in set(sys.modules) - before:
            origin = getattr(sys.modules[name], "__file__", None) or ""
            if origin.startswith(str(code_dir)):
                del sys.modules[name]
    return getattr(module, function_name)
