"""A room's recent broadcast messages: the state of the ``ChatRoom`` entity.

Entity signals may arrive twice or out of order (docs/chat-app.md, "Durable entities"), so
appending is idempotent by message id and the list is kept ordered by (time, id) — ISO 8601 UTC
times sort as text. The history is bounded twice: by count (``CHAT_HISTORY_SIZE``) and by
:data:`HISTORY_BYTES` of JSON with every non-ASCII character escaped, the most any encoder can
make of it. So the ``history`` a new connection receives is one message far below the service's
1 MB limit, whatever people wrote, and is always sent whole.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .entities import run_operation
from .outputs import Encoded, encoded_size

__all__ = ["HISTORY_BYTES", "LOBBY", "History", "append_message", "apply_operation",
           "history_messages"]

LOBBY = "lobby"
"""The key of the room every broadcast goes to."""
HISTORY_BYTES = 128 * 1024
"""The most the messages of a history may take as escaped JSON (a 1 MB message holds 8)."""

Message = Mapping[str, Any]


_ID = operator.itemgetter("id")
"""A kept message's id (every kept message has one: :meth:`History.from_json`)."""


def _order(message: Message) -> tuple[str, str]:
    return (str(message.get("time", "")), str(message.get("id", "")))


@dataclass(frozen=True)
class History:
    """Messages oldest first, each a payload as clients receive it."""

    messages: tuple[Message, ...] = ()
    known_size: int | None = field(default=None, compare=False, repr=False)
    """:attr:`size`, when the history this one was made from knew it."""

    @classmethod
    def from_json(cls, value: Any) -> History:
        """A stored state (or None for an entity that never ran); malformed parts are dropped."""
        if isinstance(value, _Stored):
            return value.history
        stored = value.get("messages") if isinstance(value, Mapping) else None
        if not isinstance(stored, list):
            return cls()
        kept = [m for m in stored if isinstance(m, Mapping) and isinstance(m.get("id"), str)]
        return cls(tuple(sorted(kept, key=_order)))

    def to_json(self) -> dict[str, Any]:
        """The state to store; its messages are this history's own (a state is only encoded)."""
        return _Stored(self, messages=list(self.messages))

    @cached_property
    def size(self) -> int:
        """Bytes of the messages as one JSON array (escaped: :func:`~chat.outputs.encoded_size`)."""
        if self.known_size is not None:
            return self.known_size
        return encoded_size(list(self.messages))

    def append(self, message: Message, *, limit: int, max_bytes: int = HISTORY_BYTES) -> History:
        """With ``message`` in place; a known id changes nothing; the oldest go first, until at
        most ``limit`` are left and their :attr:`size` is at most ``max_bytes``."""
        if not isinstance(message.get("id"), str):
            return self
        if message["id"] in map(_ID, self.messages):
            return self
        messages = [*self.messages, dict(message)]
        if len(messages) > 1 and _order(message) < _order(messages[-2]):
            messages.sort(key=_order)  # a late arrival; the newest simply go last
        # The size follows each change (a comma between two messages), so only the new and the
        # dropped messages are encoded, not the whole array on every append.
        size = self.size + encoded_size(message) + (1 if self.messages else 0)
        while len(messages) > max(limit, 0) or (messages and size > max_bytes):
            oldest = messages.pop(0)
            size -= encoded_size(oldest) + (1 if messages else 0)
        return History(tuple(messages), size)

    def newest(self, limit: int | None = None) -> list[Message]:
        """The messages to send a new connection, oldest first (shared, not copied)."""
        messages = list(self.messages)
        return messages[-limit:] if limit else messages

    @cached_property
    def _encoded(self) -> dict[int | None, Encoded]:
        return {}

    def encoded(self, limit: int | None = None) -> Encoded:
        """:meth:`newest` as JSON text, encoded once per history and limit."""
        cache = self._encoded
        if limit not in cache:
            cache[limit] = Encoded(json.dumps(self.newest(limit)))
        return cache[limit]


class _Stored(dict[str, Any]):
    """A state as :meth:`History.to_json` made it, with the history it came from. The Durable
    SDK keeps the state an entity sets as it is until the batch ends, so the next operation of
    the batch reads it back with no parsing and no encoding; stored, it is a plain object."""

    __slots__ = ("history",)

    def __init__(self, history: History, **fields: Any) -> None:
        super().__init__(**fields)
        self.history = history


def append_message(state: Any, message: Message, limit: int) -> dict[str, Any]:
    """The entity operation ``append``: stored state in, stored state out."""
    return History.from_json(state).append(message, limit=limit).to_json()


def apply_operation(state: Any, name: str, data: Any, *, limit: int) -> dict[str, Any]:
    """The entity's one operation, ``append``; anything else raises ValueError."""
    table = {"append": lambda history, message: history.append(message, limit=limit)}
    return run_operation(table, History.from_json(state), name, data).to_json()


def history_messages(state: Any, limit: int | None = None) -> list[dict[str, Any]]:
    """The messages of a stored state to send a new connection, oldest first."""
    return [dict(m) for m in History.from_json(state).newest(limit)]
