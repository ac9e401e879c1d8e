"""The hub handshake (docs/client-protocol.md, "Handshake").

The client's first record is always JSON, ended by 0x1E, in a text or binary frame:
``{"protocol": "json" | "messagepack", "version": N}``. The server answers ``{}`` + 0x1E, or
``{"error": "..."}`` + 0x1E and then closes. The answer never carries ``type``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ...contracts.codec import HubProtocol
from ...contracts.framing import frame_record
from ...contracts.json_hub import dumps, loads
from ...contracts.protocols import PROTOCOLS
from ...errors import HandshakeError, ProtocolError

__all__ = [
    "PROTOCOLS",
    "HandshakeRequest",
    "handshake_response",
    "parse_handshake_request",
    "select_protocol",
]

@dataclass(frozen=True, kw_only=True)
class HandshakeRequest:
    protocol: str
    version: int


def parse_handshake_request(record: bytes) -> HandshakeRequest:
    """Read the record (without its 0x1E); raise HandshakeError if it is not a handshake."""
    try:
        obj = loads(record)
    except ProtocolError:
        raise HandshakeError("Handshake request is not valid JSON.") from None
    if not isinstance(obj, dict):
        raise HandshakeError("Handshake request is not a JSON object.")
    protocol = obj.get("protocol")
    version = obj.get("version")
    if not isinstance(protocol, str):
        raise HandshakeError("Missing required property 'protocol'.")
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise HandshakeError("Missing required property 'version'.")
    return HandshakeRequest(protocol=protocol, version=version)


def select_protocol(
    request: HandshakeRequest,
    *,
    protocols: Mapping[str, HubProtocol] = PROTOCOLS,
    transfer_formats: Iterable[str] = ("Text", "Binary"),
) -> HubProtocol:
    """The protocol the request names, if it is available on this transport (ASP.NET wording)."""
    protocol = protocols.get(request.protocol)
    if protocol is None:
        raise HandshakeError(f"Requested protocol '{request.protocol}' is not available.")
    if protocol.transfer_format not in tuple(transfer_formats):
        raise HandshakeError(
            f"Cannot use the '{request.protocol}' protocol on the current transport. The transport "
            f"does not support '{protocol.transfer_format}' transfer format."
        )
    if request.version > protocol.max_version:
        raise HandshakeError(
            f"The server does not support version {request.version} of the "
            f"'{request.protocol}' protocol."
        )
    return protocol


def handshake_response(error: str | None = None) -> bytes:
    """``{}`` + 0x1E on success, ``{"error": ...}`` + 0x1E on failure."""
    return frame_record(b"{}" if error is None else dumps({"error": error}))
