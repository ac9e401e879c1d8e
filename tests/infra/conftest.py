"""Fixtures for the offline checks of infra/ (Bicep parsed with pycep-parser, checkov)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.infra.infra_model import INFRA_DIR, REPO_ROOT, Infra, load_infra

_SUMMARIES = pytest.StashKey[list[str]]()


@pytest.fixture
def infra() -> Infra:
    """The real infra/ and azure.yaml, parsed."""
    return load_infra(INFRA_DIR)


@pytest.fixture
def make_infra_copy(tmp_path: Path):
    """Factory: copy infra/ and azure.yaml under tmp_path/<name>/ and return the infra path."""

    def make(name: str) -> Path:
        root = tmp_path / name
        root.mkdir()
        shutil.copytree(INFRA_DIR, root / "infra", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy2(REPO_ROOT / "azure.yaml", root / "azure.yaml")
        return root / "infra"

    return make


@pytest.fixture
def record_summary(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Record a line for the end of the test run (what the Bicep type check covered)."""

    def record(line: str) -> None:
        request.config.stash.setdefault(_SUMMARIES, []).append(line)

    return record


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    for line in config.stash.get(_SUMMARIES, []):
        terminalreporter.write_line(line)
