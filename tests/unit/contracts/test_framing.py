"""Record-separator and VarInt framing, fed whole, byte by byte and with trailing bytes."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.contracts.framing import (
    LengthPrefixReader,
    RecordReader,
    frame_length_prefixed,
    frame_record,
    split_length_prefixed,
    split_records,
)
from emulator.errors import FramingError, MessageTooLarge, ProtocolError

VARINT_CASES = [
    (0, b"\x00"),
    (1, b"\x01"),
    (127, b"\x7f"),
    (128, b"\x80\x01"),
    (300, b"\xac\x02"),
    (16384, b"\x80\x80\x01"),
]


@pytest.mark.parametrize(("length", "prefix"), VARINT_CASES)
def test_framing_varint_prefix_matches_spec(length, prefix):
    payload = b"x" * length
    framed = frame_length_prefixed(payload)
    assert framed[: len(prefix)] == prefix
    assert split_length_prefixed(framed) == [payload]


def _feed_bytewise(reader, data: bytes) -> list[bytes]:
    out: list[bytes] = []
    for index in range(len(data)):
        out += reader.feed(data[index : index + 1])
    return out


def test_framing_record_reader_whole_bytewise_and_trailing():
    data = b'{"a":1}\x1e{"b":2}\x1e'
    assert RecordReader().feed(data) == [b'{"a":1}', b'{"b":2}']
    assert _feed_bytewise(RecordReader(), data) == [b'{"a":1}', b'{"b":2}']
    reader = RecordReader()
    assert reader.feed(data + b'{"c"') == [b'{"a":1}', b'{"b":2}']
    assert reader.pending == 4
    assert reader.feed(b":3}\x1e") == [b'{"c":3}']


def test_framing_length_prefix_reader_whole_bytewise_and_trailing():
    records = [b"", b"abc", b"\x1e" * 200]
    data = b"".join(frame_length_prefixed(r) for r in records)
    assert LengthPrefixReader().feed(data) == records
    assert _feed_bytewise(LengthPrefixReader(), data) == records
    reader = LengthPrefixReader()
    assert reader.feed(data + b"\x05ab") == records
    assert reader.pending == 3


def test_framing_record_reader_enforces_max_size_before_separator():
    reader = RecordReader(max_size=4)
    with pytest.raises(MessageTooLarge):
        reader.feed(b"12345")
    assert RecordReader(max_size=4).feed(b"1234\x1e") == [b"1234"]


def test_framing_length_prefix_reader_enforces_max_size_from_prefix():
    with pytest.raises(MessageTooLarge):
        LengthPrefixReader(max_size=10).feed(b"\x0b")


def test_framing_length_prefix_rejects_six_byte_prefix():
    with pytest.raises(FramingError):
        LengthPrefixReader().feed(b"\x80\x80\x80\x80\x80\x01")


def test_framing_split_rejects_incomplete_messages():
    with pytest.raises(FramingError):
        split_records(b'{"a":1}\x1e{')
    with pytest.raises(FramingError):
        split_length_prefixed(b"\x03ab")


@given(st.lists(st.binary(max_size=300), max_size=5))
def test_framing_length_prefixed_round_trips(records):
    data = b"".join(frame_length_prefixed(r) for r in records)
    assert split_length_prefixed(data) == records


@given(st.lists(st.binary(max_size=50).filter(lambda b: b"\x1e" not in b), max_size=5))
def test_framing_records_round_trip(records):
    assert split_records(b"".join(frame_record(r) for r in records)) == records


@given(st.binary(max_size=200))
def test_framing_any_bytes_split_or_raise_protocol_error(data):
    for split in (split_records, split_length_prefixed):
        with contextlib.suppress(ProtocolError):
            split(data)
