"""Waiting on orchestrations through the status URL the host hands out (never by sleeping)."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from tests.support.timeouts import TIMEOUT

__all__ = ["API", "poll_status"]

API = "/runtime/webhooks/durabletask"
ENDED = ("Completed", "Failed", "Terminated")


async def poll_status(session: aiohttp.ClientSession, status_url: str,
                      until: tuple[str, ...] = ENDED, *, custom: Any = None,
                      timeout: float = TIMEOUT) -> dict[str, Any]:
    """GET ``status_url`` until ``runtimeStatus`` is one of ``until`` (and, if given, the custom
    status equals ``custom``); fails with the last answer after ``timeout`` seconds."""
    last: Any = None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        async with session.get(status_url) as response:
            last = await response.json(content_type=None) if response.status != 404 else None
        if last and last["runtimeStatus"] in until and (custom is None
                                                       or last["customStatus"] == custom):
            return dict(last)
        await asyncio.sleep(0.05)
    raise AssertionError(f"{status_url} never reached {until}: {last}")
