"""The app's Durable entities, their keys, and how a table of operations runs one of them.

- ``ChatRoom@lobby``: the room's history (:mod:`chat.history`).
- ``Presence@<owner>``: one user's connections and groups, a shard per user (:mod:`chat.presence`);
  joins of different users never wait on each other.
- ``Roster@chat``: who is online, for the list a new connection receives (:mod:`chat.roster`).
- ``Group@<group>``: the connections a group has (:mod:`chat.groups`).

Keys are base64url of the UTF-8 text (no padding): user ids may hold ``/ \\ # ?``, which the
Durable HTTP API refuses in keys (docs/chat-app.md, "Durable entities").
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

__all__ = [
    "CHAT_ROOM",
    "GROUP",
    "PRESENCE",
    "ROSTER",
    "ROSTER_KEY",
    "Signal",
    "entity_key",
    "run_operation",
]

CHAT_ROOM = "ChatRoom"
PRESENCE = "Presence"
ROSTER = "Roster"
ROSTER_KEY = "chat"
GROUP = "Group"

S = TypeVar("S")


def entity_key(text: str) -> str:
    """An entity key any Durable backend accepts, one-to-one with ``text``."""
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


@dataclass(frozen=True, kw_only=True)
class Signal:
    """One entity operation to signal (one-way: it runs later, maybe twice, in any order)."""

    entity: str
    key: str
    operation: str
    data: Mapping[str, Any] = field(default_factory=dict)


def run_operation(
    table: Mapping[str, Callable[[S, Mapping[str, Any]], S]], state: S, name: str, data: Any
) -> S:
    """Look ``name`` up in ``table`` and apply it; unknown names and bad input raise ValueError."""
    operation = table.get(name)
    if operation is None:
        raise ValueError(f"unknown operation {name!r}")
    if not isinstance(data, Mapping):
        raise ValueError(f"operation {name!r} needs a JSON object as input")
    return operation(state, data)


def text_field(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise ValueError(f"field {name!r} must be a non-empty string")
    return value


def optional_text(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    return value if isinstance(value, str) and value else None


def text_list(data: Mapping[str, Any], name: str) -> list[str]:
    value = data.get(name) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"field {name!r} must be a list of strings")
    return list(value)
