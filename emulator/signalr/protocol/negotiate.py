"""The service's negotiate answer (docs/client-protocol.md, "Negotiate").

Version 1 has a secret ``connectionToken`` (the ``id`` of later requests) besides the public
``connectionId``; version 0 has none and the id is the token. Never a ``url``: the JS client
would follow it as one more redirect.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ...errors import BadRequest

__all__ = [
    "ALL_TRANSPORTS",
    "MAX_NEGOTIATE_VERSION",
    "build_negotiate_response",
    "lowered_query",
    "negotiate_version",
    "single_query_value",
]

MAX_NEGOTIATE_VERSION = 1
ALL_TRANSPORTS: Mapping[str, tuple[str, ...]] = {
    "WebSockets": ("Text", "Binary"),
    "ServerSentEvents": ("Text",),
    "LongPolling": ("Text", "Binary"),
}


def lowered_query(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Query parameters by lower-cased name (the server reads them without regard to case)."""
    query: dict[str, list[str]] = {}
    for name, value in pairs:
        query.setdefault(name.lower(), []).append(value)
    return query


def single_query_value(query: Mapping[str, list[str]], name: str) -> str | None:
    """The one value of ``name``; None when absent, BadRequest when given twice."""
    values = query.get(name.lower(), [])
    if len(values) > 1:
        raise BadRequest(f"more than one '{name}' query parameter")
    return values[0] if values else None


def negotiate_version(query: Mapping[str, list[str]]) -> int:
    """The version to answer with: 0 when absent, never more than we support."""
    text = single_query_value(query, "negotiateversion")
    if text is None:
        return 0
    if not (text.isascii() and text.isdigit()):  # "²".isdigit() is True, int("²") fails
        raise BadRequest("the client requested an invalid protocol version")
    return min(int(text), MAX_NEGOTIATE_VERSION)


def build_negotiate_response(
    *,
    connection_id: str,
    connection_token: str,
    version: int,
    transports: Sequence[str] = ("WebSockets",),
    stateful_reconnect: bool = False,
) -> dict[str, Any]:
    """The JSON body; ``transports`` in preference order, WebSockets first."""
    body: dict[str, Any] = {"connectionId": connection_id}
    if version >= 1:
        body["connectionToken"] = connection_token
    body["negotiateVersion"] = version
    body["availableTransports"] = [
        {"transport": name, "transferFormats": list(ALL_TRANSPORTS[name])} for name in transports
    ]
    if stateful_reconnect:
        body["useStatefulReconnect"] = True
    return body
