"""Hub messages as frozen values (docs/client-protocol.md, "Hub messages").

Only the shapes live here; ``json_hub`` and ``msgpack_hub`` turn them into bytes and back.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Union

__all__ = [
    "Ack",
    "CancelInvocation",
    "Close",
    "Completion",
    "HubMessage",
    "Invocation",
    "MessageType",
    "Ping",
    "Sequence",
    "StreamInvocation",
    "StreamItem",
]


class MessageType(enum.IntEnum):
    INVOCATION = 1
    STREAM_ITEM = 2
    COMPLETION = 3
    STREAM_INVOCATION = 4
    CANCEL_INVOCATION = 5
    PING = 6
    CLOSE = 7
    ACK = 8
    SEQUENCE = 9


def _no_headers() -> Mapping[str, str]:
    return {}


@dataclass(frozen=True, kw_only=True)
class Invocation:
    """Type 1. With ``invocation_id`` the caller waits for a Completion; without, none comes."""

    target: str
    arguments: list[Any] = field(default_factory=list)
    invocation_id: str | None = None
    stream_ids: tuple[str, ...] = ()
    headers: Mapping[str, str] = field(default_factory=_no_headers)
    type = MessageType.INVOCATION


@dataclass(frozen=True, kw_only=True)
class StreamItem:
    invocation_id: str
    item: Any = None
    headers: Mapping[str, str] = field(default_factory=_no_headers)
    type = MessageType.STREAM_ITEM


@dataclass(frozen=True, kw_only=True)
class Completion:
    """Type 3: ``error`` set → failed; ``has_result`` → ``result`` carries a value; else void."""

    invocation_id: str
    result: Any = None
    has_result: bool = False
    error: str | None = None
    headers: Mapping[str, str] = field(default_factory=_no_headers)
    type = MessageType.COMPLETION

    @classmethod
    def failed(cls, invocation_id: str, error: str) -> Completion:
        return cls(invocation_id=invocation_id, error=error)

    @classmethod
    def void(cls, invocation_id: str) -> Completion:
        return cls(invocation_id=invocation_id)


@dataclass(frozen=True, kw_only=True)
class StreamInvocation:
    target: str
    invocation_id: str
    arguments: list[Any] = field(default_factory=list)
    stream_ids: tuple[str, ...] = ()
    headers: Mapping[str, str] = field(default_factory=_no_headers)
    type = MessageType.STREAM_INVOCATION


@dataclass(frozen=True, kw_only=True)
class CancelInvocation:
    invocation_id: str
    headers: Mapping[str, str] = field(default_factory=_no_headers)
    type = MessageType.CANCEL_INVOCATION


@dataclass(frozen=True, kw_only=True)
class Ping:
    type = MessageType.PING


@dataclass(frozen=True, kw_only=True)
class Close:
    error: str | None = None
    allow_reconnect: bool | None = None
    type = MessageType.CLOSE


@dataclass(frozen=True, kw_only=True)
class Ack:
    sequence_id: int
    type = MessageType.ACK


@dataclass(frozen=True, kw_only=True)
class Sequence:
    sequence_id: int
    type = MessageType.SEQUENCE


HubMessage = Union[  # noqa: UP007 - a runtime alias usable in isinstance on 3.10
    Invocation, StreamItem, Completion, StreamInvocation, CancelInvocation, Ping, Close, Ack,
    Sequence,
]
