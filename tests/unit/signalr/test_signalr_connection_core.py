"""The sans-I/O hub connection: handshake, messages, failures, close."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.signalr.protocol.connection import (
    ConnectionFailed,
    HandshakeCompleted,
    HubConnection,
    State,
)
from emulator.signalr.protocol.errors import InvalidState
from emulator.signalr.protocol.handshake import (
    HandshakeRequest,
    handshake_response,
    parse_handshake_request,
    select_protocol,
)
from emulator.signalr.protocol.messages import Close, Completion, Invocation, Ping

HANDSHAKE_JSON = b'{"protocol":"json","version":1}\x1e'
HANDSHAKE_MSGPACK = b'{"protocol":"messagepack","version":1}\x1e'


@pytest.mark.parametrize(("record", "expected"), [
    (b'{"protocol":"json","version":1}', HandshakeRequest(protocol="json", version=1)),
    (b'{"version":0,"protocol":"messagepack"}', HandshakeRequest(protocol="messagepack",
                                                                  version=0)),
])
def test_handshake_parses_request(record, expected):
    assert parse_handshake_request(record) == expected


@pytest.mark.parametrize(("request_", "error"), [
    (HandshakeRequest(protocol="xml", version=1), "Requested protocol 'xml' is not available."),
    (HandshakeRequest(protocol="json", version=3),
     "The server does not support version 3 of the 'json' protocol."),
])
def test_handshake_refuses_unsupported_request(request_, error):
    with pytest.raises(Exception, match=error.replace("(", r"\(").replace(".", r"\.")):
        select_protocol(request_)


def test_handshake_refuses_binary_protocol_on_text_transport():
    with pytest.raises(Exception, match="Cannot use the 'messagepack' protocol"):
        select_protocol(HandshakeRequest(protocol="messagepack", version=1),
                        transfer_formats=("Text",))


def test_handshake_response_shapes():
    assert handshake_response() == b"{}\x1e"
    assert handshake_response("no") == b'{"error":"no"}\x1e'


@pytest.mark.parametrize("version", [0, 1, 2])
def test_connection_accepts_handshake_versions_0_to_2(version):
    core = HubConnection()
    core.receive_data(b'{"protocol":"json","version":%d}\x1e' % version)
    assert core.events_received() == [HandshakeCompleted(protocol="json", version=version)]
    assert core.data_to_send() == [b"{}\x1e"]
    assert core.state is State.OPEN


def test_connection_handshake_byte_by_byte_then_messages_in_same_feed():
    core = HubConnection()
    data = HANDSHAKE_JSON + b'{"type":6}\x1e{"type":1,"target":"a","arguments":[]}\x1e'
    for index in range(len(data)):
        core.receive_data(data[index : index + 1])
    assert core.events_received() == [
        HandshakeCompleted(protocol="json", version=1), Ping(),
        Invocation(target="a", arguments=[]),
    ]


def test_connection_msgpack_after_handshake_in_same_chunk():
    core = HubConnection()
    core.receive_data(HANDSHAKE_MSGPACK + b"\x02\x91\x06")
    assert core.events_received() == [HandshakeCompleted(protocol="messagepack", version=1),
                                      Ping()]
    assert core.protocol is not None and core.protocol.transfer_format == "Binary"


def test_connection_bad_handshake_queues_error_and_closes():
    core = HubConnection()
    core.receive_data(b"not json\x1e")
    events = core.events_received()
    assert isinstance(events[0], ConnectionFailed)
    assert core.data_to_send() == [b'{"error":"Handshake request is not valid JSON."}\x1e']
    assert core.state is State.CLOSED


def test_connection_bad_message_queues_close_with_error():
    core = HubConnection()
    core.receive_data(HANDSHAKE_JSON)
    core.data_to_send()
    core.receive_data(b'{"type":1}\x1e')
    assert isinstance(core.events_received()[-1], ConnectionFailed)
    assert core.data_to_send() == [b'{"type":7,"error":"\'target\' must be a string"}\x1e']
    assert core.state is State.CLOSED
    core.receive_data(b'{"type":6}\x1e')
    assert core.events_received() == []


def test_connection_oversized_message_fails():
    core = HubConnection(max_message_size=10)
    core.receive_data(HANDSHAKE_JSON)
    core.receive_data(b'{"type":1,"target":"abcdefghij"')
    assert isinstance(core.events_received()[-1], ConnectionFailed)


def test_connection_client_close_stops_reading_without_reply():
    core = HubConnection()
    core.receive_data(HANDSHAKE_JSON)
    core.data_to_send()
    core.receive_data(b'{"type":7}\x1e{"type":6}\x1e')
    assert core.events_received()[-1] == Close()
    assert core.state is State.CLOSED
    assert core.data_to_send() == []


def test_connection_send_encodes_in_negotiated_protocol():
    core = HubConnection()
    with pytest.raises(InvalidState):
        core.send(Ping())
    core.receive_data(HANDSHAKE_MSGPACK)
    core.data_to_send()
    core.send(Completion.void("1"))
    assert core.data_to_send() == [b"\x06\x94\x03\x80\xa11\x02"]


def test_connection_close_sends_close_message_once():
    core = HubConnection()
    core.receive_data(HANDSHAKE_JSON)
    core.data_to_send()
    core.close("bye", allow_reconnect=True)
    core.close("again")
    assert core.data_to_send() == [b'{"type":7,"error":"bye","allowReconnect":true}\x1e']


@given(st.binary(max_size=300))
def test_connection_never_raises_on_peer_bytes(data):
    core = HubConnection(max_message_size=100)
    core.receive_data(data)
    core.receive_data(HANDSHAKE_JSON + data)
    core.events_received()
    core.data_to_send()


@given(st.sampled_from(["json", "messagepack"]),
       st.lists(st.integers(min_value=1, max_value=40), max_size=20))
def test_connection_parses_any_chunking_of_a_valid_stream(protocol_name, cuts):
    from emulator.signalr.protocol.handshake import PROTOCOLS

    protocol = PROTOCOLS[protocol_name]
    messages = [Ping(), Invocation(target="a", arguments=[1, "two"], invocation_id="1"),
                Completion(invocation_id="9", result={"x": [1]}, has_result=True),
                Invocation(target="b", arguments=[])]
    data = (b'{"protocol":"%s","version":1}\x1e' % protocol_name.encode()
            + b"".join(protocol.encode(m) for m in messages))
    core = HubConnection()
    position = 0
    for cut in cuts:
        core.receive_data(data[position : position + cut])
        position += cut
    core.receive_data(data[position:])
    events = core.events_received()
    assert events == [HandshakeCompleted(protocol=protocol_name, version=1), *messages]
