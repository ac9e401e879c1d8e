"""The two hub protocols by name, and by the Content-Type of an upstream request."""

from __future__ import annotations

from collections.abc import Mapping

from .codec import HubProtocol
from .json_hub import JsonHubProtocol
from .msgpack_hub import MessagePackHubProtocol

__all__ = ["PROTOCOLS", "protocol_for_content_type"]

PROTOCOLS: Mapping[str, HubProtocol] = {
    "json": JsonHubProtocol(),
    "messagepack": MessagePackHubProtocol(),
}
"""Shared instances: a protocol object holds no state."""

_BY_MEDIA_TYPE = {protocol.content_type: protocol for protocol in PROTOCOLS.values()}


def protocol_for_content_type(content_type: str | None) -> HubProtocol | None:
    """The protocol of an upstream body (``application/json`` or ``application/x-msgpack``)."""
    media = (content_type or "").split(";")[0].strip().lower()
    return _BY_MEDIA_TYPE.get(media)
