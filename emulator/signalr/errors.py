"""The service's error tree; defined in the pure ``protocol.errors`` and re-exported here."""

from .protocol.errors import (
    AuthError,
    BadRequest,
    Conflict,
    FramingError,
    HandshakeError,
    InvalidState,
    MessageTooLarge,
    NotFound,
    PayloadTooLarge,
    ProtocolError,
    SignalRError,
    UnsupportedMediaType,
    UpstreamError,
)
from .protocol.tokens import InvalidToken

__all__ = [
    "AuthError",
    "BadRequest",
    "Conflict",
    "FramingError",
    "HandshakeError",
    "InvalidState",
    "InvalidToken",
    "MessageTooLarge",
    "NotFound",
    "PayloadTooLarge",
    "ProtocolError",
    "SignalRError",
    "UnsupportedMediaType",
    "UpstreamError",
]
