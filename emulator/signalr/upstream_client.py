"""The I/O half of upstream calls: one aiohttp ClientSession, a timeout, a log line per call.

A call whose kept-alive connection turns out to be closed before any of the answer arrives (the
host closed it while idle, as it does when it restarts) is sent again on another connection, up
to three times, as .NET's HTTP client in Azure SignalR Service does (docs/serverless-contracts.md,
"Ordering, timeouts and retries").
"""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from typing import Any

import aiohttp

from ..errors import UpstreamError
from .log import printable, upstream_log
from .protocol.upstream import MAX_RESPONSE_SIZE
from .streams import read_limited

__all__ = ["RETRIES_ON_A_CLOSED_CONNECTION", "UpstreamClient"]

RETRIES_ON_A_CLOSED_CONNECTION = 3
"""dotnet/runtime's SocketsHttpHandler: at most three resends of one request."""


async def _reused(session: aiohttp.ClientSession, context: SimpleNamespace, params: Any) -> None:
    context.trace_request_ctx.reused = True


def _tracing() -> aiohttp.TraceConfig:
    trace = aiohttp.TraceConfig()
    trace.on_connection_reuseconn.append(_reused)
    return trace


class UpstreamClient:
    def __init__(self, *, timeout: float) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout,
                                                  trace_configs=[_tracing()])

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
            async with await self._send(url, body, headers) as response:
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

    async def _send(self, url: str, body: bytes, headers: dict[str, str]
                    ) -> aiohttp.ClientResponse:
        """The response's head; sent again when a reused connection was found closed first."""
        assert self._session is not None
        resends = 0
        while True:
            attempt = SimpleNamespace(reused=False)
            try:
                return await self._session.post(url, data=body, headers=headers,
                                                trace_request_ctx=attempt)
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
                # A kept-alive connection closed before any of the answer came is what a
                # server that closes idle connections leaves behind; a new one failing is the
                # server's own answer.
                if not attempt.reused or resends == RETRIES_ON_A_CLOSED_CONNECTION:
                    raise
                resends += 1
