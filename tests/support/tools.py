"""Tools the tests drive from outside Python (Node.js, Chromium, shellcheck)."""

from __future__ import annotations

import os
import shutil

import pytest

__all__ = ["require_tool"]


def require_tool(path: str, what: str) -> str:
    """The tool's path; in CI a missing tool fails the test instead of skipping it."""
    found = shutil.which(path)
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail(f"{what} is required in CI but {path} is missing")
    pytest.skip(f"{what} not installed ({path})")
