"""Transport framing of hub messages, incremental (docs/client-protocol.md, "JSON hub protocol"
and "MessagePack hub protocol").

* Text: each record is followed by the record separator 0x1E.
* Binary: each record is preceded by its length as a VarInt (7 bits a byte, low group first,
  high bit = more; 1 to 5 bytes; the length is below 2 GiB).

Readers accept any chunking: ``feed()`` keeps an unfinished record for the next call. The size
limit is enforced as bytes arrive, so a peer cannot make the buffer grow without bound.
"""

from __future__ import annotations

from ..errors import FramingError, MessageTooLarge

__all__ = [
    "RECORD_SEPARATOR",
    "LengthPrefixReader",
    "RecordReader",
    "frame_length_prefixed",
    "frame_record",
    "split_length_prefixed",
    "split_records",
]

RECORD_SEPARATOR = b"\x1e"
_MAX_VARINT_BYTES = 5
_MAX_LENGTH = 2**31 - 1


def frame_record(payload: bytes) -> bytes:
    """A text record: the payload and 0x1E."""
    return payload + RECORD_SEPARATOR


def frame_length_prefixed(payload: bytes) -> bytes:
    """A binary record: the VarInt length, then the payload."""
    length = len(payload)
    prefix = bytearray()
    while True:
        byte = length & 0x7F
        length >>= 7
        if length:
            prefix.append(byte | 0x80)
        else:
            prefix.append(byte)
            break
    return bytes(prefix) + payload


class RecordReader:
    """Splits a text stream on 0x1E; a record longer than ``max_size`` raises MessageTooLarge."""

    __slots__ = ("_buffer", "_max_size")

    def __init__(self, max_size: int | None = None) -> None:
        self._buffer: bytearray | None = None
        """An unfinished record; None when there is none (an idle connection keeps no empty
        buffer: benchmarks/RESULTS.md, "Memory per connection")."""
        self._max_size = max_size

    @property
    def pending(self) -> int:
        """Bytes of an unfinished record kept for the next call."""
        return len(self._buffer) if self._buffer is not None else 0

    def feed(self, data: bytes) -> list[bytes]:
        buffer = self._buffer
        if buffer is not None:
            buffer += data
        records: list[bytes] = []
        seen = data if buffer is None else buffer
        start = 0
        while True:
            end = seen.find(RECORD_SEPARATOR, start)
            if end < 0:
                break
            self._check(end - start)
            records.append(bytes(seen[start:end]))
            start = end + 1
        self._buffer = _rest(seen, buffer, start)
        self._check(self.pending)
        return records

    def _check(self, size: int) -> None:
        if self._max_size is not None and size > self._max_size:
            raise MessageTooLarge(f"message larger than {self._max_size} bytes")


class LengthPrefixReader:
    """Splits a binary stream on VarInt length prefixes."""

    __slots__ = ("_buffer", "_max_size")

    def __init__(self, max_size: int | None = None) -> None:
        self._buffer: bytearray | None = None
        """An unfinished record; None when there is none (as :class:`RecordReader`)."""
        self._max_size = max_size

    @property
    def pending(self) -> int:
        return len(self._buffer) if self._buffer is not None else 0

    def feed(self, data: bytes) -> list[bytes]:
        buffer = self._buffer
        if buffer is not None:
            buffer += data
        records: list[bytes] = []
        seen = data if buffer is None else buffer
        offset = 0
        while True:
            header = self._read_length(seen, offset)
            if header is None:
                break
            length, prefix_size = header
            start = offset + prefix_size
            if len(seen) - start < length:
                break
            records.append(bytes(seen[start : start + length]))
            offset = start + length
        self._buffer = _rest(seen, buffer, offset)
        return records

    def _read_length(self, data: bytes | bytearray, offset: int) -> tuple[int, int] | None:
        length = 0
        for index in range(_MAX_VARINT_BYTES):
            if offset + index >= len(data):
                return None
            byte = data[offset + index]
            length |= (byte & 0x7F) << (7 * index)
            if not byte & 0x80:
                if length > _MAX_LENGTH:
                    raise FramingError("message length prefix is over 2 GiB")
                if self._max_size is not None and length > self._max_size:
                    raise MessageTooLarge(f"message larger than {self._max_size} bytes")
                return length, index + 1
        raise FramingError("message length prefix is longer than 5 bytes")


def _rest(seen: bytes | bytearray, buffer: bytearray | None, start: int) -> bytearray | None:
    """What is left of ``seen`` after ``start``, kept for the next call (None: nothing)."""
    if start >= len(seen):
        return None
    if buffer is None:
        return bytearray(seen[start:])
    del buffer[:start]
    return buffer


def split_records(data: bytes) -> list[bytes]:
    """Every record of a complete text transport message; trailing bytes are an error."""
    reader = RecordReader()
    records = reader.feed(data)
    if reader.pending:
        raise FramingError("message is incomplete: no record separator at the end")
    return records


def split_length_prefixed(data: bytes) -> list[bytes]:
    """Every record of a complete binary transport message; a cut record is an error."""
    reader = LengthPrefixReader()
    records = reader.feed(data)
    if reader.pending:
        raise FramingError("message is incomplete: cut inside a length-prefixed record")
    return records
