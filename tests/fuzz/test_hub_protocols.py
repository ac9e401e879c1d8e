"""Fuzzing the hub protocol cores: framing, JSON and MessagePack codecs, handshake, connection.

Contract (docs/client-protocol.md, "JSON hub protocol" and "MessagePack hub protocol";
websockets' fuzz contract): any input either decodes or raises ``ProtocolError`` — nothing else —
and what decodes re-encodes to the same message.
"""

from __future__ import annotations

import contextlib
import itertools
from typing import Any

import msgpack
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
from emulator.contracts.json_hub import JsonHubProtocol, dumps
from emulator.contracts.msgpack_hub import MessagePackHubProtocol
from emulator.contracts.protocols import PROTOCOLS
from emulator.errors import HandshakeError, ProtocolError
from emulator.signalr.protocol.connection import (
    ConnectionFailed,
    HubConnection,
    SessionLimits,
    State,
)
from emulator.signalr.protocol.handshake import parse_handshake_request
from tests.fuzz.fuzzing import FUZZ, json_values

JSON = JsonHubProtocol()
MSGPACK = MessagePackHubProtocol()


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


def _feed_all(reader: RecordReader | LengthPrefixReader, chunks: list[bytes]) -> list[bytes]:
    records: list[bytes] = []
    for chunk in chunks:
        records += reader.feed(chunk)
    return records


# -- framing -------------------------------------------------------------------------------------

@FUZZ
@given(st.binary(max_size=512), st.lists(st.integers(min_value=0), max_size=8))
def test_record_reader_any_bytes_split_or_protocol_error(data: bytes, cuts: list[int]) -> None:
    """A text stream gives the same records however it is chunked (or a ProtocolError)."""
    try:
        whole = RecordReader(max_size=64).feed(data)
    except ProtocolError:
        return
    assert _feed_all(RecordReader(max_size=64), _chunks(data, cuts)) == whole
    assert all(b"\x1e" not in record and len(record) <= 64 for record in whole)


@FUZZ
@given(st.binary(max_size=512), st.lists(st.integers(min_value=0), max_size=8))
def test_length_prefix_reader_any_bytes_split_or_protocol_error(
    data: bytes, cuts: list[int]
) -> None:
    """A binary stream gives the same records however it is chunked (or a ProtocolError)."""
    try:
        whole = LengthPrefixReader(max_size=300).feed(data)
    except ProtocolError:
        return
    assert _feed_all(LengthPrefixReader(max_size=300), _chunks(data, cuts)) == whole
    assert all(len(record) <= 300 for record in whole)


@FUZZ
@given(st.lists(st.binary(max_size=300), max_size=5))
def test_length_prefixed_framing_round_trips(payloads: list[bytes]) -> None:
    stream = b"".join(frame_length_prefixed(p) for p in payloads)
    assert split_length_prefixed(stream) == payloads


@FUZZ
@given(st.lists(st.binary(max_size=100).filter(lambda b: b"\x1e" not in b), max_size=5))
def test_record_framing_round_trips(payloads: list[bytes]) -> None:
    stream = b"".join(frame_record(p) for p in payloads)
    assert split_records(stream) == payloads


@FUZZ
@given(st.binary(min_size=1, max_size=6))
def test_length_prefix_reader_limit_holds_for_any_prefix(prefix: bytes) -> None:
    """A prefix announcing more than the limit is refused before the body arrives."""
    reader = LengthPrefixReader(max_size=10)
    try:
        records = reader.feed(prefix)
    except ProtocolError:
        return
    assert all(len(r) <= 10 for r in records)
    assert reader.pending <= 5 + 10


# -- codecs --------------------------------------------------------------------------------------

def _decodes_or_protocol_error(protocol: Any, payload: bytes) -> None:
    try:
        message = protocol.decode_payload(payload)
    except ProtocolError:
        return
    again = protocol.decode_payload(protocol.encode_payload(message))
    assert again == message


@FUZZ
@given(st.binary(max_size=256))
def test_json_hub_any_bytes_decode_or_protocol_error(payload: bytes) -> None:
    _decodes_or_protocol_error(JSON, payload)


_type_numbers = st.one_of(st.integers(min_value=-2, max_value=12), st.booleans(),
                          st.text(max_size=2), st.none(),
                          st.floats(allow_nan=False, allow_infinity=False))
_fields = st.sampled_from(["type", "target", "arguments", "invocationId", "streamIds", "headers",
                           "item", "result", "error", "allowReconnect", "sequenceId"])


@FUZZ
@given(st.dictionaries(_fields, json_values, max_size=6), _type_numbers)
def test_json_hub_shaped_objects_decode_or_protocol_error(
    obj: dict[str, Any], kind: Any
) -> None:
    """Objects with the protocol's own property names and any values."""
    obj["type"] = kind
    _decodes_or_protocol_error(JSON, dumps(obj))


@FUZZ
@given(st.recursive(st.just(0), lambda inner: st.lists(inner, max_size=1), max_leaves=1)
       .map(lambda _: None), st.integers(min_value=1, max_value=5000))
def test_json_hub_deep_nesting_is_a_protocol_error_or_decodes(_: None, depth: int) -> None:
    """``[[[[...]]]]`` deep enough to hit the recursion limit is refused, not crashed on."""
    payload = b'{"type":1,"target":"t","arguments":' + b"[" * depth + b"]" * depth + b"}"
    _decodes_or_protocol_error(JSON, payload)


@FUZZ
@given(st.binary(max_size=256))
def test_msgpack_hub_any_bytes_decode_or_protocol_error(payload: bytes) -> None:
    _decodes_or_protocol_error(MSGPACK, payload)


_msgpack_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats() | st.text(max_size=10) | st.binary(max_size=10),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(
        st.text(max_size=5) | st.integers(0, 3), inner, max_size=3),
    max_leaves=12,
)


@FUZZ
@given(st.integers(min_value=-1, max_value=10), st.lists(_msgpack_values, max_size=6))
def test_msgpack_hub_shaped_arrays_decode_or_protocol_error(kind: int, rest: list[Any]) -> None:
    """Arrays that start with a message type, then any values in the other slots."""
    _decodes_or_protocol_error(MSGPACK, msgpack.packb([kind, *rest], use_bin_type=True))


@FUZZ
@given(st.binary(max_size=200))
def test_hub_protocol_decode_whole_transport_message_or_protocol_error(data: bytes) -> None:
    for protocol in (JSON, MSGPACK):
        with contextlib.suppress(ProtocolError):
            protocol.decode(data)


# -- handshake and the connection core ----------------------------------------------------------

@FUZZ
@given(st.one_of(st.binary(max_size=100), json_values.map(dumps)))
def test_handshake_any_record_parses_or_handshake_error(record: bytes) -> None:
    try:
        request = parse_handshake_request(record)
    except HandshakeError:
        return
    assert isinstance(request.protocol, str) and request.version >= 0


_handshakes = st.sampled_from([
    b'{"protocol":"json","version":1}\x1e', b'{"protocol":"messagepack","version":1}\x1e',
    b'{"protocol":"json","version":2}\x1e', b'{"protocol":"xml","version":1}\x1e', b"\x1e",
])


@FUZZ
@given(_handshakes, st.lists(st.binary(max_size=80), max_size=6))
def test_hub_connection_any_stream_never_raises(handshake: bytes, chunks: list[bytes]) -> None:
    """Whatever a peer sends, the core records events; a failure closes it with a reason."""
    core = HubConnection(now=0.0, protocols=PROTOCOLS,
                         limits=SessionLimits(max_message_size=64))
    events: list[Any] = []
    for chunk in [handshake, *chunks]:
        core.receive_data(chunk, 0.0)
        events += core.events_received()
    sent = core.data_to_send(0.0)
    failures = [e for e in events if isinstance(e, ConnectionFailed)]
    if failures:
        assert core.state is State.CLOSED and len(failures) == 1
        assert sent and str(failures[0].error).encode() in b"".join(sent)
        assert events[-1] is failures[0], "nothing is read after the failure"


@pytest.mark.parametrize("protocol", ["json", "messagepack"])
def test_hub_connection_refuses_unknown_message_type(protocol: str) -> None:
    """The named case the fuzzer covers at random: type 99 closes with a reason."""
    core = HubConnection(now=0.0, protocols=PROTOCOLS)
    core.receive_data(dumps({"protocol": protocol, "version": 1}) + b"\x1e", 0.0)
    codec = PROTOCOLS[protocol]
    raw = (frame_record(b'{"type":99}') if protocol == "json"
           else frame_length_prefixed(msgpack.packb([99])))
    assert codec is not None
    core.receive_data(raw, 0.0)
    events = core.events_received()
    assert isinstance(events[-1], ConnectionFailed)
    assert "unknown message type 99" in str(events[-1].error)
    assert core.state is State.CLOSED


def test_json_hub_number_overflowing_to_infinity_is_a_protocol_error_or_round_trips() -> None:
    """``1e999`` is valid JSON text but has no finite value: refuse it or carry it intact."""
    _decodes_or_protocol_error(JSON, b'{"type":1,"target":"t","arguments":[1e999]}')
