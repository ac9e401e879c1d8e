"""The host's public surface and the purity of its cores, pinned."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import emulator.functions

PACKAGE = Path(emulator.functions.__file__).parent
PURE = ["expressions", "routes", "webhook", "signalr_output", "http_binding", "keys", "ncrontab",
        "schedules", "timer_status", "timer_trigger", "registration", "startup_checks",
        "worker_rules"]
IMPURE = {"asyncio", "aiohttp", "os", "time", "random", "secrets", "socket", "uuid", "sqlite3",
          "subprocess", "threading"}


def test_functions_package_exports() -> None:
    assert {"HostConfig", "make_app", "load_local_settings", "merge_settings",
            "FunctionsHostError", "IndexingError"} <= set(emulator.functions.__all__)
    for name in emulator.functions.__all__:
        assert hasattr(emulator.functions, name)


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_functions_modules_declare_all(path: Path) -> None:
    if path.name == "__main__.py":
        return
    module = importlib.import_module(f"emulator.functions.{path.stem}".removesuffix(".__init__"))
    assert isinstance(module.__all__, list)
    for name in module.__all__:
        assert hasattr(module, name), f"{path.name}: {name} in __all__ but not defined"


@pytest.mark.parametrize("name", PURE)
def test_functions_pure_cores_do_no_io(name: str) -> None:
    tree = ast.parse((PACKAGE / f"{name}.py").read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert not imported & IMPURE
