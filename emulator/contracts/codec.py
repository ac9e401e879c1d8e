"""The interface every hub protocol shares, and small validators for decoded fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Protocol

from ..errors import ProtocolError
from .messages import HubMessage

__all__ = ["HubProtocol", "RecordSplitter", "check_headers", "check_str", "check_type_number"]


class RecordSplitter(Protocol):
    @property
    def pending(self) -> int: ...

    def feed(self, data: bytes) -> list[bytes]: ...


class HubProtocol:
    """A hub protocol: ``name`` for the handshake, bytes in and out, framing included.

    ``encode`` returns a framed record (what goes on the transport); ``encode_payload`` the bare
    record (what goes upstream: docs/serverless-contracts.md, "Bodies"). ``decode_payload`` raises
    ProtocolError for any malformed record and never anything else.
    """

    name: ClassVar[str]
    transfer_format: ClassVar[str]
    """``Text`` or ``Binary`` (docs/client-protocol.md, "Negotiate")."""
    content_type: ClassVar[str]
    max_version: ClassVar[int] = 2

    def encode_payload(self, message: HubMessage) -> bytes:
        raise NotImplementedError

    def decode_payload(self, payload: bytes) -> HubMessage:
        raise NotImplementedError

    def frame(self, payload: bytes) -> bytes:
        raise NotImplementedError

    def make_reader(self, max_size: int | None = None) -> RecordSplitter:
        raise NotImplementedError

    def encode(self, message: HubMessage) -> bytes:
        return self.frame(self.encode_payload(message))

    def decode(self, data: bytes) -> list[HubMessage]:
        """Every message of a complete transport message (trailing bytes are an error)."""
        reader = self.make_reader()
        messages = [self.decode_payload(record) for record in reader.feed(data)]
        if reader.pending:
            raise ProtocolError("message is incomplete")
        return messages


def check_type_number(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProtocolError("message type must be an integer")
    return value


def check_str(value: Any, name: str, *, optional: bool = False, non_empty: bool = False) -> Any:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise ProtocolError(f"'{name}' must be a string")
    if non_empty and not value:
        raise ProtocolError(f"'{name}' must not be empty")
    return value


def check_headers(value: Any) -> Mapping[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ProtocolError("'headers' must map strings to strings")
    return value
