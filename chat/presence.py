"""One user's connections and groups: the state of a ``Presence@<owner>`` entity.

Presence is sharded by owner (the user, or a connection without one), so a thousand people
joining at once update a thousand small entities in parallel instead of queueing on one.
Entity signals are one-way, may arrive twice, and signals from clients have no FIFO guarantee
(docs/chat-app.md, "Durable entities"), so every operation has set semantics, never a counter:

- ``connect`` adds a connection; ``disconnect`` and ``prune`` remove it and leave a tombstone, so
  a late or repeated ``connect`` of a closed connection cannot bring it back.
- ``version`` grows with every change of the set of connections and travels with ``userJoined``,
  ``userLeft`` and ``userUpdated``: clients ignore an event not newer than what they know.
- The connection that made the set non-empty is the ``opener``, the one that emptied it
  ``departed``: exactly one ``connected`` function sees itself as the opener and one
  ``disconnected`` function as the departure, so ``userJoined`` / ``userLeft`` are sent once per
  session.
- When the opener goes while others stay, the oldest remaining connection becomes the opener.
- Bounded: :data:`MAX_RECORDED` connections (the app closes any beyond :data:`MAX_CONNECTIONS`),
  :data:`MAX_TOMBSTONES` tombstones and :data:`MAX_GROUPS` groups (the service keeps at most
  100 user groups per user).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .entities import optional_text, run_operation, text_field, text_list

__all__ = [
    "MAX_CONNECTIONS",
    "MAX_GROUPS",
    "MAX_RECORDED",
    "MAX_TOMBSTONES",
    "OPERATIONS",
    "Presence",
    "apply_operation",
]

MAX_CONNECTIONS = 50
"""Open connections (tabs) per user; the app closes one more."""
MAX_RECORDED = 2 * MAX_CONNECTIONS
"""The most a shard records, whatever its callers do."""
MAX_TOMBSTONES = 50
MAX_GROUPS = 100


@dataclass(frozen=True, kw_only=True)
class Presence:
    user: str | None = None
    connections: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Open connections, oldest first, each with the groups it joined itself."""
    user_groups: tuple[str, ...] = ()
    """Groups the user was joined to as a user (``joinUserToGroup``)."""
    version: int = 0
    opener: str | None = None
    departed: str | None = None
    closed: tuple[str, ...] = ()

    # -- JSON, the entity's stored state ---------------------------------------------------------

    @classmethod
    def from_json(cls, value: Any) -> Presence:
        """A stored state; None (an entity that never ran) or malformed parts read as empty."""
        if not isinstance(value, Mapping):
            return cls()

        def strings(items: Any) -> tuple[str, ...]:
            return tuple(i for i in items if isinstance(i, str)) if isinstance(items, list) else ()

        raw = value.get("connections")
        connections = ({cid: strings(groups) for cid, groups in raw.items() if isinstance(cid, str)}
                       if isinstance(raw, Mapping) else {})
        version = value.get("version")
        return cls(
            user=optional_text(value, "user"), connections=connections,
            user_groups=strings(value.get("userGroups")),
            version=version if isinstance(version, int) else 0,
            opener=optional_text(value, "opener"), departed=optional_text(value, "departed"),
            closed=strings(value.get("closed")),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "user": self.user,
            "connections": {cid: list(groups) for cid, groups in self.connections.items()},
            "userGroups": list(self.user_groups), "version": self.version,
            "opener": self.opener, "departed": self.departed, "closed": list(self.closed),
        }

    # -- questions ------------------------------------------------------------------------------

    @property
    def online(self) -> bool:
        return bool(self.connections)

    def has(self, connection_id: str) -> bool:
        return connection_id in self.connections

    def is_closed(self, connection_id: str) -> bool:
        return connection_id in self.closed

    def knows(self, connection_id: str) -> bool:
        """Whether an operation on ``connection_id`` has shown here (open or closed)."""
        return self.has(connection_id) or self.is_closed(connection_id)

    def groups(self) -> set[str]:
        """Every group the user is in: as a user, or through one of their connections."""
        joined = {group for groups in self.connections.values() for group in groups}
        return joined | set(self.user_groups)

    def can_join(self, group: str) -> bool:
        return group in self.groups() or len(self.groups()) < MAX_GROUPS

    # -- changes --------------------------------------------------------------------------------

    def connect(self, connection_id: str, user: str | None) -> Presence:
        if self.knows(connection_id):
            return self
        if len(self.connections) >= MAX_RECORDED:  # refused: the handler closes it
            return replace(self, closed=(*self.closed, connection_id)[-MAX_TOMBSTONES:])
        opener = self.opener if self.online else connection_id
        return replace(self, user=user or self.user, version=self.version + 1, opener=opener,
                       connections={**self.connections, connection_id: ()})

    def remove(self, connection_ids: tuple[str, ...]) -> Presence:
        """Close each connection: tombstone it and, when it was open, drop it."""
        state = self
        for cid in connection_ids:
            closed = state.closed if cid in state.closed else (*state.closed, cid)
            state = replace(state, closed=closed[-MAX_TOMBSTONES:])
            if cid not in state.connections:
                continue
            connections = {c: g for c, g in state.connections.items() if c != cid}
            opener = state.opener if state.opener != cid else next(iter(connections), None)
            state = replace(state, connections=connections, version=state.version + 1,
                            opener=opener, departed=state.departed if connections else cid)
        return state

    def join_group(self, connection_id: str, group: str) -> Presence:
        groups = self.connections.get(connection_id)
        if groups is None or group in groups or not self.can_join(group):
            return self
        return replace(self, connections={**self.connections,
                                          connection_id: tuple(sorted((*groups, group)))})

    def leave_group(self, connection_id: str, group: str) -> Presence:
        groups = self.connections.get(connection_id)
        if groups is None or group not in groups:
            return self
        return replace(self, connections={**self.connections, connection_id: tuple(
            g for g in groups if g != group)})

    def join_user_group(self, group: str) -> Presence:
        if group in self.user_groups or not self.can_join(group):
            return self
        return replace(self, user_groups=tuple(sorted((*self.user_groups, group))))

    def leave_user_group(self, group: str) -> Presence:
        return replace(self, user_groups=tuple(g for g in self.user_groups if g != group))


Operation = Callable[[Presence, Mapping[str, Any]], Presence]
OPERATIONS: Mapping[str, Operation] = {
    "connect": lambda s, d: s.connect(text_field(d, "connectionId"), optional_text(d, "user")),
    "disconnect": lambda s, d: s.remove((text_field(d, "connectionId"),)),
    "prune": lambda s, d: s.remove(tuple(text_list(d, "connectionIds"))),
    "joinGroup": lambda s, d: s.join_group(text_field(d, "connectionId"), text_field(d, "group")),
    "leaveGroup": lambda s, d: s.leave_group(text_field(d, "connectionId"),
                                             text_field(d, "group")),
    "joinUser": lambda s, d: s.join_user_group(text_field(d, "group")),
    "leaveUser": lambda s, d: s.leave_user_group(text_field(d, "group")),
}
"""The entity's operations by name; each input is a JSON object."""


def apply_operation(state: Any, name: str, data: Any) -> dict[str, Any]:
    """One entity operation, stored state in and out; raises ValueError for a bad one."""
    return run_operation(OPERATIONS, Presence.from_json(state), name, data).to_json()
