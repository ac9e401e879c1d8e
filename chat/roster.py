"""Who is online, for the list a new connection receives: the state of ``Roster@chat``.

Each entry mirrors one ``Presence`` shard: its user, number of connections and version. Updates
are signals nobody waits for, and an update is applied only when its version is newer than what
the roster knows for that shard, so repeated and reordered signals converge on the newest. The
roster therefore trails the shards by the entity's processing delay; it is also the directory
the reconcile pass walks to find every shard with open connections.

A list read while an update is still on its way misses that change, and the event that told
everyone else went out before the new connection existed: its page would show someone who left
as online (or miss someone who came) until that user changes again. So the roster also keeps the
changes it applied since the last reconcile pass (``fresh``); the pass repeats them to everyone
as one ``usersChanged`` (pages ignore what is not newer than what they know) and tells the roster
they went out (``repeated``).

Bounded: :data:`MAX_ONLINE` shards online (more are not listed), :data:`MAX_LEFT` recent
departures kept to refuse stale updates and :data:`MAX_LEFT` fresh changes. The ``onlineUsers``
payload is cut at :data:`SNAPSHOT_BYTES`, its ``count`` says how many are online in all.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from .entities import optional_text, run_operation, text_field
from .outputs import Encoded

__all__ = ["MAX_LEFT", "MAX_ONLINE", "OPERATIONS", "SNAPSHOT_BYTES", "Entry", "Roster",
           "apply_operation"]

MAX_ONLINE = 10_000
MAX_LEFT = 1_000
SNAPSHOT_BYTES = 256 * 1024


@dataclass(frozen=True, kw_only=True)
class Entry:
    user: str | None
    connections: int
    version: int

    def to_json(self) -> dict[str, Any]:
        return {"user": self.user, "connections": self.connections, "version": self.version}

    @cached_property
    def listed(self) -> str:
        """The entry as the ``onlineUsers`` list shows it, ``[user, connections, version]``, as
        JSON text (made once per entry: a thousand joiners each receive the whole list)."""
        return json.dumps([self.user, self.connections, self.version], separators=(",", ":"))


@dataclass(frozen=True, kw_only=True)
class Roster:
    online: Mapping[str, Entry] = field(default_factory=dict)
    """Presence key -> entry, for shards with open connections."""
    left: Mapping[str, int] = field(default_factory=dict)
    """Presence key -> the version at which it went offline, oldest first."""
    fresh: Mapping[str, Entry] = field(default_factory=dict)
    """Presence key -> the change applied since a reconcile pass last repeated it, oldest
    first."""

    @classmethod
    def from_json(cls, value: Any) -> Roster:
        if not isinstance(value, Mapping):
            return cls()
        left = value.get("left")
        return cls(online=_entries(value.get("online")), fresh=_entries(value.get("fresh")),
                   left={k: v for k, v in left.items() if isinstance(v, int)}
                   if isinstance(left, Mapping) else {})

    def to_json(self) -> dict[str, Any]:
        return {"online": {key: entry.to_json() for key, entry in self.online.items()},
                "left": dict(self.left),
                "fresh": {key: entry.to_json() for key, entry in self.fresh.items()}}

    def known_version(self, key: str) -> int:
        entry = self.online.get(key)
        return entry.version if entry is not None else self.left.get(key, -1)

    def update(self, key: str, entry: Entry) -> Roster:
        """The shard's newer state; an update not newer than what is known changes nothing."""
        return self.update_many([(key, entry)])

    def update_many(self, updates: Iterable[tuple[str, Entry]]) -> Roster:
        """:meth:`update` for each, copying the roster once."""
        online, left, fresh = dict(self.online), dict(self.left), dict(self.fresh)
        changed = False
        for key, entry in updates:
            known = online[key].version if key in online else left.get(key, -1)
            if entry.version <= known:
                continue
            if entry.connections > 0:
                if key not in online and len(online) >= MAX_ONLINE:
                    continue
                left.pop(key, None)
                online[key] = entry
            else:
                online.pop(key, None)
                left.pop(key, None)
                left[key] = entry.version
                while len(left) > MAX_LEFT:
                    del left[next(iter(left))]
            fresh.pop(key, None)
            fresh[key] = entry
            while len(fresh) > MAX_LEFT:
                del fresh[next(iter(fresh))]
            changed = True
        return replace(self, online=online, left=left, fresh=fresh) if changed else self

    def repeated(self, versions: Mapping[str, int]) -> Roster:
        """The fresh changes a reconcile pass repeated (up to those versions) are not fresh."""
        fresh = {key: entry for key, entry in self.fresh.items()
                 if entry.version > versions.get(key, -1)}
        return replace(self, fresh=fresh) if len(fresh) != len(self.fresh) else self

    def snapshot(self, *also: tuple[str, Entry]) -> Encoded:
        """The ``onlineUsers`` argument, as JSON text: ``{"users": [[user, connections,
        version], ...], "count"}``, named users only, in no particular order, cut at
        :data:`SNAPSHOT_BYTES` (``count`` says how many are online in all).

        ``also`` are entries the caller knows to be newer than the roster (the new connection's
        own shard).
        """
        newer = {key: entry for key, entry in also if entry.version > self.known_version(key)}
        entries = [e for k, e in self.online.items() if k not in newer]
        entries += [e for e in newer.values() if e.connections > 0]
        listed = [e.listed for e in entries if e.user is not None]
        users: list[str] = []
        budget = SNAPSHOT_BYTES
        for text in listed:
            budget -= len(text) + 1
            if budget < 0:
                break
            users.append(text)
        return Encoded(f'{{"users":[{",".join(users)}],"count":{len(listed)}}}')


def _entries(raw: Any) -> dict[str, Entry]:
    entries: dict[str, Entry] = {}
    for key, entry in (raw.items() if isinstance(raw, Mapping) else ()):
        if isinstance(entry, Mapping) and isinstance(entry.get("version"), int) and isinstance(
                entry.get("connections"), int):
            entries[key] = Entry(user=optional_text(entry, "user"),
                                 connections=entry["connections"], version=entry["version"])
    return entries


Operation = Callable[[Roster, Mapping[str, Any]], Roster]


def _update(roster: Roster, data: Mapping[str, Any]) -> Roster:
    """``{"entries": [{"key", "user", "connections", "version"}, ...]}``."""
    entries = data.get("entries")
    if not isinstance(entries, list) or not all(isinstance(e, Mapping) for e in entries):
        raise ValueError("field 'entries' must be a list of objects")
    updates = []
    for entry in entries:
        connections, version = entry.get("connections"), entry.get("version")
        if not isinstance(connections, int) or not isinstance(version, int):
            raise ValueError("fields 'connections' and 'version' must be integers")
        updates.append((text_field(entry, "key"), Entry(
            user=optional_text(entry, "user"), connections=connections, version=version)))
    return roster.update_many(updates)


def _repeated(roster: Roster, data: Mapping[str, Any]) -> Roster:
    """``{"versions": {key: version}}``: what a reconcile pass repeated."""
    versions = data.get("versions")
    if not isinstance(versions, Mapping) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in versions.values()):
        raise ValueError("field 'versions' must map keys to integers")
    return roster.repeated(versions)


OPERATIONS: Mapping[str, Operation] = {"update": _update, "repeated": _repeated}


def apply_operation(state: Any, name: str, data: Any) -> dict[str, Any]:
    return run_operation(OPERATIONS, Roster.from_json(state), name, data).to_json()
