"""A connection's bounded outgoing queue, drained by exactly one writer.

``put`` never waits: a full queue returns False and the caller drops that one client, so a slow
client never stalls a broadcast. ``close`` lets a final message (a Close) past the bound.

Every delivery of a broadcast and every idle connection goes through here, so it is lean: no
``asyncio.Event`` (a deque each) and no ``wait_for`` (a task per wait); a waiter is a bare future
created only while someone waits, and a timeout is one timer handle.
Measured in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import asyncio

__all__ = ["Outbox"]


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


class Outbox:
    __slots__ = ("_items", "_limit", "_waiters", "closed")

    def __init__(self, limit: int) -> None:
        # A list, not a deque: an empty deque holds a 0.5 KB block, on every idle connection;
        # the writer takes a batch at a time, so pops from the front stay cheap.
        self._items: list[bytes] = []
        self._limit = limit
        self._waiters: list[asyncio.Future[None]] | None = None
        self.closed = False

    def __len__(self) -> int:
        return len(self._items)

    def put(self, data: bytes) -> bool:
        """Queue ``data``; False when closed or full."""
        if self.closed or len(self._items) >= self._limit:
            return False
        self._items.append(data)
        if self._waiters is not None:
            self._wake()
        return True

    def close(self, final: bytes | None = None) -> None:
        """No more puts; ``final`` is still delivered after what is queued."""
        if self.closed:
            return
        if final:
            self._items.append(final)
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    async def _ready(self, timeout: float | None) -> None:
        """Until the next put or close; TimeoutError after ``timeout``. Several tasks may wait."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        if self._waiters is None:
            self._waiters = [waiter]
        else:
            self._waiters.append(waiter)
        # A bare timer that fails the future: lighter than asyncio.timeout's cancellation.
        timer = None if timeout is None else loop.call_at(loop.time() + timeout, _expire, waiter)
        try:
            await waiter
        finally:
            if timer is not None:
                timer.cancel()
            if self._waiters is not None and waiter in self._waiters:
                self._waiters.remove(waiter)
                if not self._waiters:
                    self._waiters = None

    async def get(self, timeout: float | None = None) -> bytes | None:
        """The next item; None once closed and empty; TimeoutError after ``timeout`` idle."""
        while not self._items:
            if self.closed:
                return None
            await self._ready(timeout)
        return self._items.pop(0)

    async def get_batch(self, timeout: float | None = None,
                        max_bytes: int = 64 * 1024) -> bytes | None:
        """Like :meth:`get`, joined with whatever else is queued (whole records, so one
        transport message may carry several), up to about ``max_bytes``."""
        # No waiting for more to arrive: a writer woken for one message sends it at once.
        # (Yielding twice first halves the frames of a saturated REST fan-out but adds 2-3 ms
        # to every delivery at 100 messages/s; benchmarks/RESULTS.md.)
        first = await self.get(timeout)
        if first is None:
            return None
        items, count, size = self._items, 0, len(first)
        while count < len(items) and size < max_bytes:
            size += len(items[count])
            count += 1
        if not count:
            return first
        parts = [first, *items[:count]]
        del items[:count]
        return b"".join(parts)

    def drain(self) -> list[bytes]:
        """Everything queued now (long polling sends it as one body)."""
        items, self._items = self._items, []
        return items

    async def wait(self, timeout: float | None = None) -> None:
        """Until something is queued or the box is closed (TimeoutError otherwise)."""
        while not self._items and not self.closed:
            await self._ready(timeout)
