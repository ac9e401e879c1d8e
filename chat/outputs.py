"""Items for the ``signalR`` output binding, as plain dicts (docs/chat-app.md, "Azure Functions").

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
    "Encoded",
    "Item",
    "add_connection",
    "add_user",
    "encode",
    "encode_item",
    "encoded_size",
    "remove_connection",
    "remove_user",
    "to_all",
    "to_connection",
    "to_group",
    "to_user",
]

Item = dict[str, Any]

_compact = json.JSONEncoder(separators=(",", ":")).encode  # made once, not per call


class Encoded(str):
    """An argument already encoded as JSON text (the same history or online list goes to every
    new connection: encoded once, not once per join). Items holding one are encoded with
    :func:`encode` / :func:`encode_item`, which splice it in as is."""


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


def _value(value: Any) -> str:
    return str(value) if isinstance(value, Encoded) else json.dumps(value)


def encode_item(item: Item) -> str:
    """One item as JSON, arguments spliced in when already :class:`Encoded`."""
    fields = []
    for key, value in item.items():
        if key == "arguments" and isinstance(value, list):
            text = "[" + ",".join(_value(argument) for argument in value) + "]"
        else:
            text = json.dumps(value)
        fields.append(f"{json.dumps(key)}:{text}")
    return "{" + ",".join(fields) + "}"


def encode(items: Sequence[Item]) -> str | None:
    """The JSON string the binding takes (``Out[str]``), or None when there is nothing to send."""
    return "[" + ",".join(encode_item(item) for item in items) + "]" if items else None


def encoded_size(value: Any) -> int:
    """Bytes of ``value`` as JSON with every non-ASCII character escaped.

    An upper bound for any encoder on the way to the service: ``\\uXXXX`` (6 bytes, 12 for an emoji)
    is never shorter than the same character in UTF-8 (2 to 4 bytes).
    """
    return len(_compact(value))
