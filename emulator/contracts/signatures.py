"""Upstream signatures (docs/serverless-contracts.md, "Signature"; docs/functions-host.md, "SignalR
trigger webhook").

``X-ASRS-Signature: sha256=<hex HMAC-SHA256(key=UTF-8(AccessKey), msg=UTF-8(connectionId))>``, one
value per access key, joined with a bare ``,``. Only the connection id is signed.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Iterable

__all__ = ["sign_connection_id", "verify_signature"]


def _bytes(text: str) -> bytes:
    # surrogatepass: a peer-supplied id or header may hold lone surrogates; never raise on it.
    return text.encode("utf-8", "surrogatepass")


@functools.lru_cache(maxsize=4096)  # every upstream call of a connection signs the same id
def _signature(key: str, connection_id: str) -> str:
    digest = hmac.new(_bytes(key), _bytes(connection_id), hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def sign_connection_id(connection_id: str, keys: Iterable[str]) -> str:
    """The header value: one signature per key, comma-separated with no space.

    The Functions extension splits the header on ``,`` (docs/serverless-contracts.md, "Signature").
    """
    return ",".join(_signature(key, connection_id) for key in keys)


def verify_signature(header: str | None, connection_id: str, keys: Iterable[str]) -> bool:
    """True when any signature in ``header`` matches any key (hex compared case-insensitively)."""
    if not header:
        return False
    offered = [_bytes(value.strip().lower()) for value in header.split(",")]
    return any(
        hmac.compare_digest(_bytes(_signature(key, connection_id)), value)
        for key in keys
        for value in offered
    )
