"""The I/O half of upstream calls: one aiohttp ClientSession, a timeout, a log line per call."""

from __future__ import annotations

import asyncio
import time

import aiohttp

from ..errors import UpstreamError
from .log import printable, upstream_log
from .protocol.upstream import MAX_RESPONSE_SIZE
from .streams import read_limited

__all__ = ["UpstreamClient"]


class UpstreamClient:
    def __init__(self, *, timeout: float) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        """POST and return (status, body); UpstreamError when unreachable or too slow."""
        if self._session is None:
            raise UpstreamError("the upstream client is closed")
        event = headers.get("X-ASRS-Event", "")
        connection_id = headers.get("X-ASRS-Connection-Id", "")
        started = time.perf_counter()
        try:
            async with self._session.post(url, data=body, headers=headers) as response:
                payload = await read_limited(response.content, MAX_RESPONSE_SIZE)
                status = response.status
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            upstream_log.warning(
                "upstream %s %s for connection %s failed after %.0f ms: %s",
                headers.get("X-ASRS-Category"), printable(event), connection_id,
                (time.perf_counter() - started) * 1000, type(exc).__name__,
            )
            reason = "timed out" if isinstance(exc, asyncio.TimeoutError) else "unreachable"
            raise UpstreamError(f"upstream {reason}") from exc
        upstream_log.info(
            "upstream %s %s for connection %s: %d in %.0f ms",
            headers.get("X-ASRS-Category"), printable(event), connection_id, status,
            (time.perf_counter() - started) * 1000,
        )
        return status, payload
