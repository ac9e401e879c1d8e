"""A connection's bounded outgoing queue, drained by exactly one writer.

``put`` never waits: a full queue returns False and the caller drops that one client, so a slow
client never stalls a broadcast. ``close`` lets a final message (a Close) past the bound.
"""

from __future__ import annotations

import asyncio
from collections import deque

__all__ = ["Outbox"]


class Outbox:
    def __init__(self, limit: int) -> None:
        self._items: deque[bytes] = deque()
        self._limit = limit
        self._ready = asyncio.Event()
        self.closed = False

    def __len__(self) -> int:
        return len(self._items)

    def put(self, data: bytes) -> bool:
        """Queue ``data``; False when closed or full."""
        if self.closed or len(self._items) >= self._limit:
            return False
        self._items.append(data)
        self._ready.set()
        return True

    def close(self, final: bytes | None = None) -> None:
        """No more puts; ``final`` is still delivered after what is queued."""
        if self.closed:
            return
        if final:
            self._items.append(final)
        self.closed = True
        self._ready.set()

    async def get(self, timeout: float | None = None) -> bytes | None:
        """The next item; None once closed and empty; TimeoutError after ``timeout`` idle."""
        while not self._items:
            if self.closed:
                return None
            self._ready.clear()
            await asyncio.wait_for(self._ready.wait(), timeout)
        return self._items.popleft()

    async def get_batch(self, timeout: float | None = None,
                        max_bytes: int = 64 * 1024) -> bytes | None:
        """Like :meth:`get`, joined with whatever else is queued (whole records, so one
        transport message may carry several), up to about ``max_bytes``."""
        first = await self.get(timeout)
        if first is None:
            return None
        parts, size = [first], len(first)
        while self._items and size < max_bytes:
            item = self._items.popleft()
            parts.append(item)
            size += len(item)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def drain(self) -> list[bytes]:
        """Everything queued now (long polling sends it as one body)."""
        items = list(self._items)
        self._items.clear()
        return items

    async def wait(self, timeout: float | None = None) -> None:
        """Until something is queued or the box is closed (TimeoutError otherwise)."""
        while not self._items and not self.closed:
            self._ready.clear()
            await asyncio.wait_for(self._ready.wait(), timeout)
