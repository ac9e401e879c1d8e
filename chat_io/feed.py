"""Presence news, published by one flush at a time per app instance (chat.news).

Publishing queues the news and waits until it has gone out; a single task flushes the queue:
one roster signal and the events (per-user events, or one ``usersChanged`` for many) sent
directly (REST, chat_io.rest). Flushes are at least :data:`FLUSH_INTERVAL` apart: news after a
quiet spell goes out at once, news during a join storm waits for the next flush, so a thousand
joins cost a few dozen broadcasts (each reaches every connection) and roster updates, not a
thousand. Every publisher waits for its own flush, so no news is left behind when an invocation
ends and the instance stops. A flush that fails is logged (the waiting invocations still
finish) and the next news is still sent; the reconcile pass repairs the roster.
"""

from __future__ import annotations

import asyncio
import logging

from chat import News, batch_news

from .cache import Snapshots
from .entities import Entities
from .rest import Service

__all__ = ["PresenceFeed"]

log = logging.getLogger("chat")
FLUSH_INTERVAL = 0.2


class PresenceFeed:
    def __init__(self, snapshots: Snapshots) -> None:
        self.snapshots = snapshots
        self._queue: list[tuple[News, asyncio.Future[None]]] = []
        self._task: asyncio.Future[None] | None = None
        self._last_flush = -FLUSH_INTERVAL

    async def publish(self, news: News, store: Entities, service: Service) -> None:
        """Send ``news`` to everyone and the roster (with whatever else is queued); this
        instance's roster view has it at once."""
        self.snapshots.updated(news.entries)
        sent = asyncio.get_running_loop().create_future()
        self._queue.append((news, sent))
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._flush(store, service))
        await sent

    async def drained(self) -> None:
        """Wait until everything published so far has been flushed."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def _flush(self, store: Entities, service: Service) -> None:
        loop = asyncio.get_running_loop()
        while self._queue:
            wait = self._last_flush + FLUSH_INTERVAL - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            self._last_flush = loop.time()
            batch, self._queue = self._queue, []
            decision = batch_news([news for news, _ in batch])
            if len(batch) > 1:
                log.info("presence: %d changes in one flush", len(batch))
            try:
                await store.signal(decision.signals)
                await service.send_each(decision.items)
            except Exception:  # logged, never lost silently; the next batch still goes
                log.exception("presence: a flush of %d change(s) failed", len(batch))
            finally:
                for _, sent in batch:
                    if not sent.done():
                        sent.set_result(None)
