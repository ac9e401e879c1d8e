"""The room's history and the roster, as this app instance last read them, for a second.

A new connection needs both. Read from the entities on every join, a join storm reads and
parses the same state a thousand times. So each instance keeps what it last read for
:data:`FRESH_FOR` seconds, one read at a time, and lays its own changes on top as it makes them
(its broadcasts, its roster updates) for :data:`KEEP_LOCAL_FOR` seconds, until the entities
surely have them. On one instance nothing is stale; another instance's changes show within
:data:`FRESH_FOR` plus the entity's own processing delay.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from chat import CHAT_ROOM, LOBBY, ROSTER, ROSTER_KEY, History, Roster
from chat.roster import Entry

from .entities import Entities

__all__ = ["FRESH_FOR", "KEEP_LOCAL_FOR", "Known", "Snapshots"]

FRESH_FOR = 1.0
KEEP_LOCAL_FOR = 5.0
T = TypeVar("T")
C = TypeVar("C")


class _Cached(Generic[T, C]):
    """A state read at most every FRESH_FOR seconds, with local changes laid on top."""

    def __init__(self, apply: Callable[[T, Sequence[C]], T]) -> None:
        self._apply = apply
        self._value: T | None = None
        self._read_at = -FRESH_FOR
        self._local: list[tuple[float, C]] = []
        self._reading: asyncio.Future[T] | None = None

    async def get(self, read: Callable[[], Awaitable[T]]) -> T:
        now = time.monotonic()
        if self._value is not None and now - self._read_at < FRESH_FOR:
            return self._value
        if self._reading is None:
            self._reading = asyncio.ensure_future(self._refresh(read))
        try:
            return await asyncio.shield(self._reading)
        finally:
            if self._reading is not None and self._reading.done():
                self._reading = None

    async def _refresh(self, read: Callable[[], Awaitable[T]]) -> T:
        value = await read()
        now = time.monotonic()
        self._local = [(at, change) for at, change in self._local if now - at < KEEP_LOCAL_FOR]
        value = self._apply(value, [change for _, change in self._local])
        self._value, self._read_at = value, now
        return value

    def change(self, change: C) -> None:
        self._local.append((time.monotonic(), change))
        if self._value is not None:
            self._value = self._apply(self._value, [change])


def _append_all(history: History, changes: Sequence[tuple[Mapping[str, Any], int]]) -> History:
    for message, limit in changes:
        history = history.append(message, limit=limit)
    return history


class Snapshots:
    """The instance's view of the room's history and of the roster."""

    def __init__(self) -> None:
        self._history: _Cached[History, tuple[Mapping[str, Any], int]] = _Cached(_append_all)
        self._roster: _Cached[Roster, tuple[str, Entry]] = _Cached(
            lambda roster, changes: roster.update_many(changes))

    async def history(self, store: Entities) -> History:
        async def read() -> History:
            return History.from_json(await store.read(CHAT_ROOM, LOBBY))
        return await self._history.get(read)

    async def roster(self, store: Entities) -> Roster:
        async def read() -> Roster:
            return Roster.from_json(await store.read(ROSTER, ROSTER_KEY))
        return await self._roster.get(read)

    def appended(self, message: Mapping[str, Any], limit: int) -> None:
        self._history.change((message, limit))

    def updated(self, entries: Sequence[tuple[str, Entry]]) -> None:
        for entry in entries:
            self._roster.change(entry)


class Known:
    """Connections this instance recorded itself (bounded, least recently added dropped first):
    a call from one of them needs no presence read just to learn it is registered."""

    def __init__(self, limit: int = 10_000) -> None:
        self._limit = limit
        self._ids: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, connection_id: object) -> bool:
        return connection_id in self._ids

    def add(self, connection_id: str) -> None:
        self._ids[connection_id] = None
        while len(self._ids) > self._limit:
            self._ids.popitem(last=False)

    def discard(self, connection_id: str) -> None:
        self._ids.pop(connection_id, None)
