"""What each target speaks on the wire: one small client codec per server under test.

Every codec turns "send this tagged chat message" into WebSocket frames and answers pings, and
every message carries a tag ``#m<sender>.<seq>#`` in its text. Receivers find tags with one
regular expression over the raw frame, so the generator pays the same small cost whatever the
server (JSON or MessagePack: a MessagePack ``str`` holds its UTF-8 bytes as they are).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import ClassVar

import msgpack

__all__ = [
    "CODECS",
    "RECORD_SEPARATOR",
    "TAG",
    "Codec",
    "RawCodec",
    "SignalRJsonCodec",
    "SignalRMessagePackCodec",
    "SocketIOCodec",
    "make_tag",
    "varint",
]

RECORD_SEPARATOR = b"\x1e"
TAG = re.compile(rb"#m(\d+)\.(\d+)#")
"""A message's identity inside any frame: sender index and sequence number."""


def make_tag(sender: int, seq: int) -> str:
    return f"#m{sender}.{seq}#"


def varint(length: int) -> bytes:
    """The MessagePack hub protocol's length prefix (7 bits per byte, low bits first)."""
    out = bytearray()
    while True:
        byte = length & 0x7F
        length >>= 7
        if length:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


@dataclass(frozen=True)
class Codec:
    """A client codec; ``binary`` says which frame type carries messages."""

    name: ClassVar[str] = "codec"
    binary: ClassVar[bool] = False

    def handshake(self) -> bytes | None:
        """The first frame after the upgrade, if the protocol has one."""
        return None

    def message(self, text: str) -> bytes:
        """The frame that asks the server to broadcast ``text`` to everyone."""
        raise NotImplementedError

    def keepalive(self) -> bytes | None:
        """A frame the client sends now and then so the server keeps an idle connection."""
        return None

    def reply(self, frame: bytes) -> bytes | None:
        """An answer the protocol requires for ``frame`` (a Socket.IO pong), if any."""
        return None


@dataclass(frozen=True)
class SignalRJsonCodec(Codec):
    """SignalR JSON hub protocol: ``send("broadcast", text)`` (no invocation id, no completion)."""

    name: ClassVar[str] = "signalr-json"
    target: str = "broadcast"

    def handshake(self) -> bytes:
        return b'{"protocol":"json","version":1}' + RECORD_SEPARATOR

    def message(self, text: str) -> bytes:
        body = {"type": 1, "target": self.target, "arguments": [text]}
        return json.dumps(body, separators=(",", ":")).encode() + RECORD_SEPARATOR

    def keepalive(self) -> bytes:
        return b'{"type":6}' + RECORD_SEPARATOR


@dataclass(frozen=True)
class SignalRMessagePackCodec(Codec):
    """SignalR MessagePack hub protocol (binary frames, varint-prefixed records)."""

    name: ClassVar[str] = "signalr-msgpack"
    binary: ClassVar[bool] = True
    target: str = "broadcast"

    def handshake(self) -> bytes:
        # The handshake is JSON whatever the hub protocol (docs/client-protocol.md, "Handshake").
        return b'{"protocol":"messagepack","version":1}' + RECORD_SEPARATOR

    def message(self, text: str) -> bytes:
        record = msgpack.packb([1, {}, None, self.target, [text], []])
        return varint(len(record)) + record

    def keepalive(self) -> bytes:
        record = msgpack.packb([6])
        return varint(len(record)) + record


@dataclass(frozen=True)
class SocketIOCodec(Codec):
    """Socket.IO v5 over Engine.IO v4, WebSocket only: ``emit("broadcast", {"text": ...})``."""

    name: ClassVar[str] = "socketio"

    def handshake(self) -> bytes:
        return b"40"  # CONNECT to the default namespace

    def message(self, text: str) -> bytes:
        return b"42" + json.dumps(["broadcast", {"text": text}], separators=(",", ":")).encode()

    def reply(self, frame: bytes) -> bytes | None:
        return b"3" if frame == b"2" else None  # Engine.IO ping -> pong


@dataclass(frozen=True)
class RawCodec(Codec):
    """The plain aiohttp broadcast server: a text frame in, the same frame out to everyone."""

    name: ClassVar[str] = "raw"

    def message(self, text: str) -> bytes:
        return json.dumps({"text": text}, separators=(",", ":")).encode()


CODECS: dict[str, type[Codec]] = {
    codec.name: codec
    for codec in (SignalRJsonCodec, SignalRMessagePackCodec, SocketIOCodec, RawCodec)
}
