"""Errors of the local SignalR Service.

Each class carries ``status_hint``: the HTTP status a shell answers with (h11's idea). Errors in
the hub protocol also become a Close message carrying ``str(error)``.

    SignalRError                     status_hint 500
    ├── ProtocolError                the peer broke the hub protocol (400) → Close with error
    │   ├── HandshakeError           bad or unsupported handshake → ``{"error": ...}`` then close
    │   ├── FramingError             a record or length prefix cannot be read
    │   └── MessageTooLarge          over the configured maximum message size (413)
    ├── InvalidState                 also AssertionError: our own bug, never the peer's
    ├── AuthError                    401 (``tokens.InvalidToken`` is one)
    ├── NotFound                     404, with an ``x-ms-error-code`` value when Azure has one
    ├── BadRequest                   400: REST body, names or query parameters
    ├── Conflict                     409: a second transport on one connection
    ├── PayloadTooLarge              413: a REST body over 1 MB
    ├── UnsupportedMediaType         415
    └── UpstreamError                502: the upstream was unreachable or timed out
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "BadRequest",
    "Conflict",
    "FramingError",
    "HandshakeError",
    "InvalidState",
    "MessageTooLarge",
    "NotFound",
    "PayloadTooLarge",
    "ProtocolError",
    "SignalRError",
    "UnsupportedMediaType",
    "UpstreamError",
]


class SignalRError(Exception):
    """Root of every error raised on purpose by the service."""

    status_hint = 500


class ProtocolError(SignalRError):
    """The peer sent something the hub protocol does not allow."""

    status_hint = 400


class HandshakeError(ProtocolError):
    """The handshake request is malformed or asks for something unsupported."""


class FramingError(ProtocolError):
    """A record separator or varint length prefix is missing or malformed."""


class MessageTooLarge(ProtocolError):
    """A message is longer than the maximum message size."""

    status_hint = 413


class InvalidState(SignalRError, AssertionError):
    """The service's own code misused a core: a bug, never the peer's fault."""


class AuthError(SignalRError):
    status_hint = 401


class NotFound(SignalRError):
    """A hub, connection, user or group does not exist (``error_code`` is Azure's header value)."""

    status_hint = 404

    def __init__(self, message: str, error_code: str | None = None) -> None:
        super().__init__(message)
        self.error_code = error_code


class BadRequest(SignalRError):
    status_hint = 400


class Conflict(SignalRError):
    status_hint = 409


class PayloadTooLarge(SignalRError):
    status_hint = 413


class UnsupportedMediaType(SignalRError):
    status_hint = 415


class UpstreamError(SignalRError):
    """The upstream could not be reached or did not answer in time."""

    status_hint = 502
