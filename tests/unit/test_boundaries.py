"""The architecture's boundaries, checked on the source so they cannot wear away."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Pure cores: bytes and dicts in, bytes and dicts out — no I/O, clock, randomness or environment.
IMPURE = {
    "asyncio",
    "aiohttp",
    "os",
    "time",
    "random",
    "secrets",
    "socket",
    "uuid",
    "sqlite3",
    "subprocess",
    "threading",
}
PURE_PACKAGES = ["emulator/signalr/protocol", "emulator/functions/orchestrations",
                 "emulator/functions/entities", "chat"]


def imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def sources(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", [ROOT / "function_app.py", *sources("chat")], ids=str)
def test_app_never_imports_the_emulator(path: Path) -> None:
    assert not [name for name in imports(path) if name.split(".")[0] == "emulator"]


@pytest.mark.parametrize("path", sources("emulator"), ids=str)
def test_emulator_never_imports_the_app(path: Path) -> None:
    assert not [name for name in imports(path) if name.split(".")[0] in ("chat", "function_app")]


@pytest.mark.parametrize("path", sources(*PURE_PACKAGES), ids=str)
def test_pure_packages_do_no_io(path: Path) -> None:
    assert not [name for name in imports(path) if name.split(".")[0] in IMPURE]
