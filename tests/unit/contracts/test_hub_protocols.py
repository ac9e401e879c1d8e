"""JSON and MessagePack hub protocols: one table of cases for encode and decode."""

from __future__ import annotations

import contextlib

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.contracts.json_hub import JsonHubProtocol
from emulator.contracts.messages import (
    Ack,
    CancelInvocation,
    Close,
    Completion,
    Invocation,
    Ping,
    Sequence,
    StreamInvocation,
    StreamItem,
)
from emulator.contracts.msgpack_hub import MessagePackHubProtocol
from emulator.errors import ProtocolError

JSON = JsonHubProtocol()
MSGPACK = MessagePackHubProtocol()

# (message, JSON payload, MessagePack payload as a Python list)
CASES = [
    (Invocation(target="send", arguments=["hi", 42]),
     b'{"type":1,"target":"send","arguments":["hi",42]}', [1, {}, None, "send", ["hi", 42], []]),
    (Invocation(target="echo", arguments=[], invocation_id="0", headers={"a": "b"}),
     b'{"type":1,"headers":{"a":"b"},"invocationId":"0","target":"echo","arguments":[]}',
     [1, {"a": "b"}, "0", "echo", [], []]),
    (Invocation(target="up", arguments=[], invocation_id="1", stream_ids=("s1",)),
     b'{"type":1,"invocationId":"1","target":"up","arguments":[],"streamIds":["s1"]}',
     [1, {}, "1", "up", [], ["s1"]]),
    (StreamItem(invocation_id="1", item={"x": 1}),
     b'{"type":2,"invocationId":"1","item":{"x":1}}', [2, {}, "1", {"x": 1}]),
    (Completion(invocation_id="1", result=None, has_result=True),
     b'{"type":3,"invocationId":"1","result":null}', [3, {}, "1", 3, None]),
    (Completion(invocation_id="1", result=[1, 2], has_result=True),
     b'{"type":3,"invocationId":"1","result":[1,2]}', [3, {}, "1", 3, [1, 2]]),
    (Completion(invocation_id="2", error="boom"),
     b'{"type":3,"invocationId":"2","error":"boom"}', [3, {}, "2", 1, "boom"]),
    (Completion(invocation_id="3"), b'{"type":3,"invocationId":"3"}', [3, {}, "3", 2]),
    (StreamInvocation(target="count", invocation_id="4", arguments=[3]),
     b'{"type":4,"invocationId":"4","target":"count","arguments":[3]}',
     [4, {}, "4", "count", [3], []]),
    (CancelInvocation(invocation_id="4"), b'{"type":5,"invocationId":"4"}', [5, {}, "4"]),
    (Ping(), b'{"type":6}', [6]),
    (Close(), b'{"type":7}', [7, None]),
    (Close(error="bye", allow_reconnect=True),
     b'{"type":7,"error":"bye","allowReconnect":true}', [7, "bye", True]),
    (Ack(sequence_id=5), b'{"type":8,"sequenceId":5}', [8, 5]),
    (Sequence(sequence_id=1), b'{"type":9,"sequenceId":1}', [9, 1]),
]


@pytest.mark.parametrize(("message", "json_payload", "msgpack_array"), CASES)
def test_json_hub_encodes_and_decodes_table(message, json_payload, msgpack_array):
    assert JSON.encode_payload(message) == json_payload
    assert JSON.decode_payload(json_payload) == message
    assert JSON.encode(message) == json_payload + b"\x1e"


@pytest.mark.parametrize(("message", "json_payload", "msgpack_array"), CASES)
def test_msgpack_hub_encodes_and_decodes_table(message, json_payload, msgpack_array):
    payload = msgpack.packb(msgpack_array)
    assert MSGPACK.encode_payload(message) == payload
    assert MSGPACK.decode_payload(payload) == message


def test_msgpack_hub_ping_is_two_bytes_framed():
    assert MSGPACK.encode(Ping()) == b"\x02\x91\x06"


def test_json_hub_decodes_messages_split_across_reads():
    data = b"".join(JSON.encode(m) for m, _, _ in CASES)
    reader = JSON.make_reader()
    decoded = [JSON.decode_payload(r) for i in range(len(data)) for r in reader.feed(data[i:i+1])]
    assert decoded == [m for m, _, _ in CASES]


def test_msgpack_hub_decodes_messages_split_across_reads():
    data = b"".join(MSGPACK.encode(m) for m, _, _ in CASES)
    reader = MSGPACK.make_reader()
    decoded = [MSGPACK.decode_payload(r) for i in range(len(data))
               for r in reader.feed(data[i:i+1])]
    assert decoded == [m for m, _, _ in CASES]


def test_json_hub_accepts_any_property_order_and_unknown_properties():
    message = JSON.decode_payload(
        b'{"target":"Echo","arguments":["hi",42],"invocationId":"0","x":1,"type":1}')
    assert message == Invocation(target="Echo", arguments=["hi", 42], invocation_id="0")


@pytest.mark.parametrize("payload", [
    b"[]", b'{"type":"1"}', b'{"type":true}', b'{"type":1,"arguments":[]}',
    b'{"type":1,"target":"","arguments":[]}', b'{"type":1,"target":"x"}',
    b'{"type":1,"target":"x","arguments":{}}', b'{"type":1,"target":"x","arguments":[NaN]}',
    b'{"type":1,"target":"x","arguments":[],"headers":{"a":1}}',
    b'{"type":2,"invocationId":"1"}', b'{"type":3,"invocationId":"1","result":1,"error":"e"}',
    b'{"type":3}', b'{"type":7,"allowReconnect":"yes"}', b'{"type":8}',
    b'{"type":9,"sequenceId":-1}',
    b'{"type":99}', b"\xff", b"{", b"{}", b'{"type":1,"target":"t","arguments":[1e999]}',
    b'{"type":1,"target":"t","arguments":[' + b"1" * 5000 + b']}',
])
def test_json_hub_rejects_malformed_messages(payload):
    with pytest.raises(ProtocolError):
        JSON.decode_payload(payload)


@pytest.mark.parametrize("array", [
    [], [1], [1, {}, 5, "x", []], [1, {}, None, "", []], [1, {}, None, "x", {}],
    [3, {}, "1", 9], [3, {}, "1", 1], [4, {}, None, "x", []], [7, 5], [8], [9, "1"], [42],
    {"type": 1}, "x",
])
def test_msgpack_hub_rejects_malformed_messages(array):
    with pytest.raises(ProtocolError):
        MSGPACK.decode_payload(msgpack.packb(array))


@given(st.binary(max_size=200))
def test_json_hub_any_bytes_decode_or_raise_protocol_error(data):
    with contextlib.suppress(ProtocolError):
        JSON.decode(data)


@given(st.binary(max_size=200))
def test_msgpack_hub_any_bytes_decode_or_raise_protocol_error(data):
    with contextlib.suppress(ProtocolError):
        MSGPACK.decode(data)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=10,
)


@given(st.text(min_size=1, max_size=20), st.lists(json_values, max_size=4),
       st.none() | st.text(max_size=5))
def test_hub_protocols_round_trip_invocations(target, arguments, invocation_id):
    message = Invocation(target=target, arguments=arguments, invocation_id=invocation_id)
    for protocol in (JSON, MSGPACK):
        assert protocol.decode(protocol.encode(message)) == [message]
