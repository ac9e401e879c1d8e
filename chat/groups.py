"""The connections in one group: the state of a ``Group@<group>`` entity.

``sendToGroup`` is for members only: a connection that joined (itself, or moved by an admin) is
listed here; a user joined as a user is in their own ``Presence`` shard. Set semantics, like
presence. Bounded at :data:`MAX_MEMBERS` connections: the oldest entry goes first (entries of
connections that closed without leaving are removed by their ``disconnected`` function, or stay
harmless: no client can speak as a closed connection).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .entities import run_operation, text_field

__all__ = ["MAX_MEMBERS", "OPERATIONS", "Members", "apply_operation"]

MAX_MEMBERS = 1000


@dataclass(frozen=True)
class Members:
    connections: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, value: Any) -> Members:
        raw = value.get("connections") if isinstance(value, Mapping) else None
        if not isinstance(raw, list):
            return cls()
        return cls(tuple(c for c in raw if isinstance(c, str)))

    def to_json(self) -> dict[str, Any]:
        return {"connections": list(self.connections)}

    def has(self, connection_id: str) -> bool:
        return connection_id in self.connections

    def add(self, connection_id: str) -> Members:
        if self.has(connection_id):
            return self
        return Members((*self.connections, connection_id)[-MAX_MEMBERS:])

    def remove(self, connection_id: str) -> Members:
        return Members(tuple(c for c in self.connections if c != connection_id))


OPERATIONS: Mapping[str, Callable[[Members, Mapping[str, Any]], Members]] = {
    "add": lambda m, d: m.add(text_field(d, "connectionId")),
    "remove": lambda m, d: m.remove(text_field(d, "connectionId")),
}


def apply_operation(state: Any, name: str, data: Any) -> dict[str, Any]:
    return run_operation(OPERATIONS, Members.from_json(state), name, data).to_json()
