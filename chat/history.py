"""A room's recent broadcast messages: the state of the ``ChatRoom`` entity (issue 8 §5).

Entity signals may arrive twice or out of order (durable-python.md §4: client signals bypass the
sorter and are delivered at least once), so appending is idempotent by message id and the list is
kept ordered by (time, id) — ISO 8601 UTC times sort as text — and cut to the newest ``limit``.
State is a plain dict so it serializes as JSON: ``{"messages": [payload, ...]}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["LOBBY", "append_message", "empty_history", "history_messages"]

LOBBY = "lobby"
"""The key of the room every broadcast goes to."""

State = dict[str, Any]


def empty_history() -> State:
    return {"messages": []}


def _order(message: Mapping[str, Any]) -> tuple[str, str]:
    return (str(message.get("time", "")), str(message.get("id", "")))


def append_message(
    state: Mapping[str, Any] | None, message: Mapping[str, Any], limit: int
) -> State:
    """The state with ``message`` in place; a message whose id is already there is not added.

    A message older than everything kept when the history is full is dropped, as it would be
    cut straight away.
    """
    messages = [dict(m) for m in (state or {}).get("messages", []) if isinstance(m, Mapping)]
    known = {m.get("id") for m in messages}
    if not isinstance(message.get("id"), str) or message["id"] in known:
        return {"messages": messages}
    messages.append(dict(message))
    messages.sort(key=_order)
    return {"messages": messages[-limit:] if limit > 0 else []}


def history_messages(state: Any, limit: int | None = None) -> list[dict[str, Any]]:
    """The messages to send a new connection, oldest first (an absent state is empty)."""
    stored = state.get("messages") if isinstance(state, Mapping) else None
    if not isinstance(stored, list):
        return []
    messages = [dict(m) for m in stored if isinstance(m, Mapping)]
    messages.sort(key=_order)
    return messages[-limit:] if limit else messages
