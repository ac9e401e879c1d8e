"""The public surface of emulator.signalr, and the purity of its protocol package."""

from __future__ import annotations

import ast
from pathlib import Path

import emulator.signalr
import emulator.signalr.protocol

PROTOCOL_DIR = Path(emulator.signalr.protocol.__file__).parent
ALLOWED = {"__future__", "collections", "dataclasses", "enum", "hashlib", "hmac", "json", "math",
           "re", "typing", "urllib", "jwt", "msgpack"}


def test_signalr_exports_are_pinned():
    assert sorted(emulator.signalr.__all__) == [
        "ConfigError", "DEFAULT_ACCESS_KEY", "ServiceConfig", "UpstreamTemplate",
        "load_settings", "make_app", "parse_settings",
    ]
    for name in emulator.signalr.__all__:
        assert hasattr(emulator.signalr, name)


def test_signalr_protocol_package_imports_no_io():
    for path in PROTOCOL_DIR.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in ALLOWED, f"{path.name} imports {name}"
