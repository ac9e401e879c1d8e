"""Presence news: what everyone hears when someone's connections change, and the roster's
update, batched.

Every presence event goes to every connection, so a thousand people joining one by one would
cost half a million deliveries. The shell publishes news through one flush at a time per app
instance (group commit): news that arrives while a flush is in flight waits for the next one.
A flush of fewer than :data:`BATCH_FROM` changes sends the per-user events (``userJoined``,
``userLeft``, ``userUpdated``); a larger one sends one ``usersChanged`` with the list; either
way one roster update. Everyday chatting, a few people at a time, therefore sees exactly the
per-user events; a join storm a few dozen batches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .decisions import Decision
from .entities import ROSTER, ROSTER_KEY, Signal
from .outputs import Item, to_all
from .presence import Presence
from .roster import Entry

__all__ = ["BATCH_FROM", "News", "batch_news", "entry_of", "presence_change"]

BATCH_FROM = 5
"""Changes in one flush from which they go out as one ``usersChanged``."""


def entry_of(shard: Presence) -> Entry:
    return Entry(user=shard.user, connections=len(shard.connections), version=shard.version)


@dataclass(frozen=True, kw_only=True)
class News:
    events: tuple[Item, ...] = ()
    """Per-user presence events for everyone."""
    entries: tuple[tuple[str, Entry], ...] = ()
    """Presence key and new state of each shard, for the roster."""

    @classmethod
    def of(cls, key: str, after: Presence, event: Item | None) -> News:
        return cls(events=() if event is None else (event,), entries=((key, entry_of(after)),))


def presence_change(user: str | None, before_online: bool, after: Presence,
                    ended_by_us: bool) -> Item | None:
    """``userJoined``, ``userLeft`` or ``userUpdated`` for a change of ``user``'s connections.

    ``before_online`` is whether the session existed before the change; ``ended_by_us`` whether
    the change being reported is the one that emptied the set (only that one says ``userLeft``).
    """
    if user is None:
        return None
    count, version = len(after.connections), after.version
    if after.online:
        target = "userUpdated" if before_online else "userJoined"
        return to_all(target, {"user": user, "connections": count, "version": version})
    if before_online and ended_by_us:
        return to_all("userLeft", {"user": user, "version": version})
    return None


def _as_change(event: Item) -> dict[str, Any]:
    change = dict(event["arguments"][0])
    change.setdefault("connections", 0)  # userLeft
    return change


def batch_news(news: Sequence[News]) -> Decision:
    """One flush: the events (each, or one ``usersChanged``) and one roster update."""
    events = [event for item in news for event in item.events]
    entries: dict[str, Entry] = {}
    for item in news:
        for key, entry in item.entries:
            if key not in entries or entry.version > entries[key].version:
                entries[key] = entry
    items = tuple(events) if len(events) < BATCH_FROM else (
        to_all("usersChanged", [_as_change(event) for event in events]),)
    rows = [{"key": key, **entry.to_json()} for key, entry in entries.items()]
    signals = (Signal(entity=ROSTER, key=ROSTER_KEY, operation="update",
                      data={"entries": rows}),) if rows else ()
    return Decision(items=items, signals=signals)
