"""The ``X-ASRS-*`` headers of an upstream request, as the service writes them and the Functions
host reads them (docs/serverless-contracts.md, "Upstream").

Claims travel as ``type: value`` pairs joined by ``, ``; the client's query string travels
without its ``access_token`` (a secret). Header values never hold control characters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote

__all__ = [
    "CATEGORY",
    "CLAIMS",
    "CLIENT_QUERY",
    "CONNECTION_ID",
    "EVENT",
    "HUB",
    "SIGNATURE",
    "USER_ID",
    "format_claims",
    "header_safe",
    "parse_claims",
    "parse_client_query",
    "strip_query_secrets",
]

CONNECTION_ID = "X-ASRS-Connection-Id"
HUB = "X-ASRS-Hub"
CATEGORY = "X-ASRS-Category"
EVENT = "X-ASRS-Event"
SIGNATURE = "X-ASRS-Signature"
USER_ID = "X-ASRS-User-Id"
CLAIMS = "X-ASRS-User-Claims"
CLIENT_QUERY = "X-ASRS-Client-Query"


def header_safe(value: str) -> str:
    """``value`` with every control character replaced by a space."""
    return "".join(ch if ch >= " " and ch != "\x7f" else " " for ch in value)


def format_claims(claims: Mapping[str, Any]) -> str:
    """``type: value`` for every claim value, joined with ``, `` (the emulator's format)."""
    parts: list[str] = []
    for name, value in claims.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, bool):
                text = str(item).lower()
            else:
                text = item if isinstance(item, str) else str(item)
            parts.append(f"{name}: {text}")
    return header_safe(", ".join(parts))


def parse_claims(text: str | None) -> dict[str, str] | None:
    """``X-ASRS-User-Claims`` as a dict; the first value per type wins (None if absent)."""
    if not text:
        return None
    result: dict[str, str] = {}
    for pair in text.split(","):
        key, sep, value = pair.partition(": ")
        key = key.strip()
        if sep and key and key not in result:
            result[key] = value.strip()
    return result


_SECRET_PARAMETERS = frozenset({"access_token", "id"})


def strip_query_secrets(query_string: str) -> str:
    """The raw query without its secrets: ``access_token`` and ``id`` (the connection token,
    which lets its holder use the connection) never leave the service."""
    kept = [
        part for part in query_string.split("&")
        if part and unquote(part.partition("=")[0]).lower() not in _SECRET_PARAMETERS
    ]
    return "&".join(kept)


def parse_client_query(text: str | None) -> dict[str, str] | None:
    """``X-ASRS-Client-Query`` as a dict, repeated keys joined by ``,`` (None if absent)."""
    if not text:
        return None
    result: dict[str, str] = {}
    for key, value in parse_qsl(text.lstrip("?"), keep_blank_values=True):
        result[key] = f"{result[key]},{value}" if key in result else value
    return result
