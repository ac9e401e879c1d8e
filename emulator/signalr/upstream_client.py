"""The I/O half of upstream calls: one pooled HTTP client, a timeout, a log line per call.

A call whose kept-alive connection turns out to be closed before any of the answer arrives (the
host closed it while idle, as it does when it restarts) is sent again on another connection, up
to three times, as .NET's HTTP client in Azure SignalR Service does (docs/serverless-contracts.md,
"Ordering, timeouts and retries"); emulator/http_client.py does that.
"""

from __future__ import annotations

import time

from yarl import URL

from ..errors import UpstreamError
from ..http_client import HttpClient
from .log import printable, upstream_log
from .protocol.upstream import MAX_RESPONSE_SIZE

__all__ = ["UpstreamClient"]


class UpstreamClient:
    def __init__(self, *, timeout: float) -> None:
        self._timeout = timeout
        self._client: HttpClient | None = None

    async def start(self) -> None:
        if self._client is None:
            self._client = HttpClient()

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        """POST and return (status, body); UpstreamError when unreachable or too slow."""
        if self._client is None:
            raise UpstreamError("the upstream client is closed")
        event = headers.get("X-ASRS-Event", "")
        connection_id = headers.get("X-ASRS-Connection-Id", "")
        started = time.perf_counter()
        try:
            answer = await self._client.request("POST", URL(url), body, headers,
                                                limit=MAX_RESPONSE_SIZE, timeout=self._timeout)
        except (TimeoutError, OSError, ValueError) as exc:
            upstream_log.warning(
                "upstream %s %s for connection %s failed after %.0f ms: %s",
                headers.get("X-ASRS-Category"), printable(event), connection_id,
                (time.perf_counter() - started) * 1000, type(exc).__name__,
            )
            reason = "timed out" if isinstance(exc, TimeoutError) else "unreachable"
            raise UpstreamError(f"upstream {reason}") from exc
        upstream_log.info(
            "upstream %s %s for connection %s: %d in %.0f ms",
            headers.get("X-ASRS-Category"), printable(event), connection_id, answer.status,
            (time.perf_counter() - started) * 1000,
        )
        return answer.status, answer.body
