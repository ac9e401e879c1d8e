"""Items for the ``signalR`` output binding (functions-python.md §7.2), as plain dicts.

A message item has ``target`` and ``arguments`` and at most one of ``connectionId``, ``userId``,
``groupName`` (none means everyone); a group action has ``action`` (``add`` / ``remove``),
``groupName`` and ``connectionId`` or ``userId``. The host sends them in list order after the
function returns, before the caller's completion.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

__all__ = [
    "Item",
    "add_connection",
    "add_user",
    "encode",
    "remove_connection",
    "remove_user",
    "to_all",
    "to_connection",
    "to_group",
    "to_user",
]

Item = dict[str, Any]


def to_all(target: str, *arguments: Any) -> Item:
    return {"target": target, "arguments": list(arguments)}


def to_connection(connection_id: str, target: str, *arguments: Any) -> Item:
    return {"target": target, "arguments": list(arguments), "connectionId": connection_id}


def to_user(user_id: str, target: str, *arguments: Any) -> Item:
    return {"target": target, "arguments": list(arguments), "userId": user_id}


def to_group(group: str, target: str, *arguments: Any) -> Item:
    return {"target": target, "arguments": list(arguments), "groupName": group}


def add_connection(connection_id: str, group: str) -> Item:
    return {"action": "add", "groupName": group, "connectionId": connection_id}


def remove_connection(connection_id: str, group: str) -> Item:
    return {"action": "remove", "groupName": group, "connectionId": connection_id}


def add_user(user_id: str, group: str) -> Item:
    return {"action": "add", "groupName": group, "userId": user_id}


def remove_user(user_id: str, group: str) -> Item:
    return {"action": "remove", "groupName": group, "userId": user_id}


def encode(items: Sequence[Item]) -> str | None:
    """The JSON string the binding takes (``Out[str]``), or None when there is nothing to send."""
    return json.dumps(list(items)) if items else None
