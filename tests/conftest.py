"""Fixtures shared by every test folder: the running stack, artefacts, the browser, tools."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.stack import ROOT, RunningStack, start_stack
from tests.support.tools import require_tool

pytest_plugins = ["tests.support.browser"]
__all__ = ["ARTIFACTS", "require_tool"]

ARTIFACTS = ROOT / "test-artifacts"


def pytest_configure(config: pytest.Config) -> None:
    ARTIFACTS.mkdir(exist_ok=True)


@pytest.fixture
def artifacts() -> Path:
    """Where tests leave screenshots and logs for people to look at."""
    return ARTIFACTS


@pytest.fixture
async def stack(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[RunningStack]:
    """The whole offline stack (service + host + chat app), as ``make run`` starts it."""
    log_path = ARTIFACTS / f"{request.node.name}.stack.log"
    running = await start_stack(data_dir=tmp_path / "data", log_path=log_path)
    yield running
    code = await running.stop()
    assert code == 0, f"the stack did not stop cleanly (exit {code}); see {log_path}"


@pytest.fixture(autouse=True)
def _node_for_node_tests(request: pytest.FixtureRequest) -> None:
    """Tests marked ``node`` drive the official client under Node: no Node, no pass."""
    if request.node.get_closest_marker("node"):
        require_tool("node", "Node.js")
