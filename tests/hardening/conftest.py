"""Fixtures for the hardening tests: an in-process stack factory and an HTTP session."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.hardening.local_stack import LocalStack, start_local_stack
from tests.support.timeouts import TIMEOUT

StackFactory = Callable[..., Awaitable[LocalStack]]


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as session:
        yield session


@pytest.fixture
async def make_local_stack(tmp_path: Path) -> AsyncIterator[StackFactory]:
    """``await make_local_stack(upstream_timeout=2.0, ...)``; stopped at the end of the test."""
    stacks: list[LocalStack] = []

    async def start(**options: Any) -> LocalStack:
        options.setdefault("data_dir", tmp_path / f"data{len(stacks)}")
        stack = await start_local_stack(**options)
        stacks.append(stack)
        return stack

    yield start
    for stack in reversed(stacks):
        await stack.stop()
