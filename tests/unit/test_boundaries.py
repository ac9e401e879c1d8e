"""The architecture's boundaries, checked on the source so they cannot wear away.

- The app (``function_app.py``, ``chat/``) and the offline stack (``emulator/``) never import
  each other.
- Pure modules (protocol cores, the shared contracts, the app's logic) import only the standard
  library's pure parts, a few pure third-party libraries, and other pure modules: no I/O, clock,
  randomness or environment.
- Importing the Functions host never loads the SignalR Service, and no package's ``__init__``
  loads an aiohttp application.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PURE_FOLDERS = ["emulator/contracts", "emulator/signalr/protocol",
                "emulator/functions/orchestrations", "emulator/functions/entities", "chat"]
PURE_MODULES = [
    "emulator/errors.py",
    "emulator/origins.py",
    "emulator/signalr/hub.py",
    "emulator/functions/expressions.py",
    "emulator/functions/http_binding.py",
    "emulator/functions/routes.py",
    "emulator/functions/signalr_output.py",
    "emulator/functions/webhook.py",
]
ALLOWED = {
    # the standard library's pure parts
    "__future__", "base64", "collections", "copy", "dataclasses", "datetime", "enum",
    "functools", "hashlib", "hmac", "itertools", "json", "math", "operator", "re", "string",
    "typing", "unicodedata", "urllib",
    # pure third-party libraries: codecs, JWTs, and the app's own platform types
    "azure", "jwt", "msgpack",
}


def _pure_paths() -> list[Path]:
    paths = {ROOT / p for p in PURE_MODULES}
    for folder in PURE_FOLDERS:
        paths |= set((ROOT / folder).rglob("*.py"))
    return sorted(paths)


PURE = _pure_paths()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


PURE_NAMES = {_module_name(p) for p in PURE}


def imports(path: Path) -> Iterator[str]:
    """Absolute names of every module ``path`` imports (relative imports resolved)."""
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
                if node.module is None:  # from . import x: each x may be a module
                    yield from (f"{module}.{alias.name}" for alias in node.names)
                    continue
                yield module
            elif node.module:
                yield node.module


def sources(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", [ROOT / "function_app.py", *sources("chat")], ids=str)
def test_app_never_imports_the_emulator(path: Path) -> None:
    assert not [name for name in imports(path) if name.split(".")[0] == "emulator"]


@pytest.mark.parametrize("path", sources("emulator"), ids=str)
def test_emulator_never_imports_the_app(path: Path) -> None:
    assert not [name for name in imports(path) if name.split(".")[0] in ("chat", "function_app")]


@pytest.mark.parametrize("path", PURE, ids=lambda p: str(p.relative_to(ROOT)))
def test_pure_modules_import_only_pure_modules(path: Path) -> None:
    impure = []
    for name in imports(path):
        top = name.split(".")[0]
        if top in ("emulator", "chat"):
            if name not in PURE_NAMES and not any(n.startswith(name + ".") for n in PURE_NAMES):
                impure.append(name)
        elif top not in ALLOWED:
            impure.append(name)
    assert not impure, f"{path.relative_to(ROOT)} imports {impure}"


@pytest.mark.parametrize(("package", "forbidden"), [
    ("emulator.functions", "emulator.signalr"),
    ("emulator.functions", "aiohttp"),
    ("emulator.contracts", "aiohttp"),
    ("emulator.signalr", "aiohttp"),
    ("emulator", "aiohttp"),
    ("chat", "emulator"),
])
def test_importing_a_package_does_not_load(package: str, forbidden: str) -> None:
    """A fresh interpreter: importing ``package`` leaves ``forbidden`` unloaded."""
    code = (f"import sys, {package}; loaded = [m for m in sys.modules "
            f"if m == {forbidden!r} or m.startswith({forbidden + '.'!r})]; print(loaded)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, check=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stdout
