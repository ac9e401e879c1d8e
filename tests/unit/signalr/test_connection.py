"""The sans-I/O hub connection: handshake, messages, failures, the send queue, timers,
stateful reconnect and close reasons. No sockets, no clock: every call is given ``now``."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.contracts.messages import Ack, Close, Completion, Invocation, Ping, Sequence
from emulator.contracts.protocols import PROTOCOLS
from emulator.errors import InvalidState
from emulator.signalr.protocol.connection import (
    CloseReason,
    ConnectionFailed,
    HandshakeCompleted,
    HubConnection,
    SessionLimits,
    State,
)
from emulator.signalr.protocol.handshake import (
    HandshakeRequest,
    handshake_response,
    parse_handshake_request,
    select_protocol,
)

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


def open_core(handshake: bytes = HANDSHAKE_JSON, **options) -> HubConnection:
    """A core past its handshake, with the handshake answer taken."""
    core = HubConnection(now=0.0, **options)
    core.receive_data(handshake, 0.0)
    core.events_received()
    core.data_to_send(0.0)
    return core


def stateful_core(**limits) -> HubConnection:
    return open_core(b'{"protocol":"json","version":2}\x1e', stateful_requested=True,
                     limits=SessionLimits(**limits))


def test_connection_handshake_response_shapes():
    assert handshake_response() == b"{}\x1e"
    assert handshake_response("no") == b'{"error":"no"}\x1e'


@pytest.mark.parametrize("version", [0, 1, 2])
def test_connection_accepts_handshake_versions_0_to_2(version):
    core = HubConnection(now=0.0)
    core.receive_data(b'{"protocol":"json","version":%d}\x1e' % version, 0.0)
    assert core.events_received() == [HandshakeCompleted(protocol="json", version=version,
                                                         stateful=False)]
    assert core.data_to_send(0.0) == [b"{}\x1e"]
    assert core.state is State.OPEN


def test_connection_handshake_byte_by_byte_then_messages_in_same_feed():
    core = HubConnection(now=0.0)
    data = HANDSHAKE_JSON + b'{"type":6}\x1e{"type":1,"target":"a","arguments":[]}\x1e'
    for index in range(len(data)):
        core.receive_data(data[index : index + 1], 0.0)
    assert core.events_received() == [
        HandshakeCompleted(protocol="json", version=1, stateful=False),
        Invocation(target="a", arguments=[]),
    ]


def test_connection_msgpack_after_handshake_in_same_chunk():
    core = HubConnection(now=0.0)
    core.receive_data(HANDSHAKE_MSGPACK + b"\x02\x91\x06" + b"\x05\x93\x05\x80\xa11", 0.0)
    events = core.events_received()
    assert events[0] == HandshakeCompleted(protocol="messagepack", version=1, stateful=False)
    assert len(events) == 2 and core.binary


def test_connection_bad_handshake_queues_error_and_closes():
    core = HubConnection(now=0.0)
    core.receive_data(b"not json\x1e", 0.0)
    (event,) = core.events_received()
    assert isinstance(event, ConnectionFailed) and "not valid JSON" in str(event.error)
    assert core.data_to_send(0.0) == [b'{"error":"Handshake request is not valid JSON."}\x1e']
    assert core.state is State.CLOSED and core.close_reason is CloseReason.PROTOCOL_ERROR


def test_connection_bad_message_queues_close_with_the_parsers_reason():
    core = open_core()
    core.receive_data(b'{"type":1}\x1e', 1.0)
    assert isinstance(core.events_received()[-1], ConnectionFailed)
    assert core.data_to_send(1.0) == [b'{"type":7,"error":"\'target\' must be a string"}\x1e']
    assert core.error == "'target' must be a string"
    core.receive_data(b'{"type":6}\x1e', 2.0)
    assert core.events_received() == []


def test_connection_oversized_message_fails():
    core = open_core(limits=SessionLimits(max_message_size=10))
    core.receive_data(b'{"type":1,"target":"abcdefghij"', 1.0)
    assert isinstance(core.events_received()[-1], ConnectionFailed)


def test_connection_oversized_handshake_fails():
    core = HubConnection(now=0.0, limits=SessionLimits(max_message_size=10))
    core.receive_data(b'{"protocol":"json"', 0.0)
    assert isinstance(core.events_received()[-1], ConnectionFailed)


def test_connection_client_close_stops_reading_without_reply():
    core = open_core()
    core.send(Invocation(target="queued"))
    core.receive_data(b'{"type":7}\x1e{"type":6}\x1e', 1.0)
    assert core.events_received()[-1] == Close()
    assert core.state is State.CLOSED and core.close_reason is CloseReason.CLIENT_CLOSED
    assert core.error is None
    assert core.data_to_send(1.0) == []


def test_connection_send_encodes_in_negotiated_protocol():
    core = HubConnection(now=0.0)
    with pytest.raises(InvalidState):
        core.send(Ping())
    core.receive_data(HANDSHAKE_MSGPACK, 0.0)
    core.data_to_send(0.0)
    core.send(Completion.void("1"))
    assert core.data_to_send(0.0) == [b"\x06\x94\x03\x80\xa11\x02"]


def test_connection_close_sends_close_message_once():
    core = open_core()
    core.close(CloseReason.CLOSED_BY_SERVER, "bye", allow_reconnect=True)
    core.close(CloseReason.SHUTTING_DOWN)
    assert core.data_to_send(0.0) == [b'{"type":7,"error":"bye","allowReconnect":true}\x1e']
    assert core.error == "bye" and not core.send_data(b"x")


def test_connection_close_without_detail_sends_the_reasons_text():
    core = open_core()
    core.close(CloseReason.SHUTTING_DOWN, allow_reconnect=True)
    assert core.data_to_send(0.0) == [
        b'{"type":7,"error":"Service is shutting down.","allowReconnect":true}\x1e']


def test_connection_server_close_without_reason_is_clean():
    core = open_core()
    core.close(CloseReason.CLOSED_BY_SERVER)
    assert core.data_to_send(0.0) == [b'{"type":7}\x1e'] and core.error is None


def test_connection_queue_bound_drops_only_this_client():
    core = open_core(limits=SessionLimits(max_queued=2))
    assert core.send_data(b"1") and core.send_data(b"2")
    assert not core.send_data(b"3")
    assert core.close_reason is CloseReason.SLOW_CLIENT and core.is_closed
    assert core.data_to_send(0.0) == []  # nothing more is written to a stuck client


def test_connection_abort_drops_what_is_queued_without_a_close():
    core = open_core()
    core.send_data(b"queued")
    core.abort(CloseReason.CLIENT_GONE)
    assert core.data_to_send(0.0) == [] and core.error == "The client went away."


# -- timers -----------------------------------------------------------------------------------


def test_connection_handshake_must_arrive_in_time():
    core = HubConnection(now=0.0, limits=SessionLimits(handshake_timeout=15))
    core.tick(14.9)
    assert core.state is State.HANDSHAKE
    core.tick(15.0)
    assert core.close_reason is CloseReason.HANDSHAKE_TIMEOUT
    assert core.data_to_send(15.0) == [b'{"error":"Handshake was canceled."}\x1e']


def test_connection_pings_after_outbound_silence_only():
    core = open_core(limits=SessionLimits(keep_alive_interval=15, client_timeout=100))
    core.tick(10.0)
    assert core.data_to_send(10.0) == []
    core.send_data(b"m")
    core.data_to_send(12.0)  # written at 12: the next ping is due at 27
    core.tick(26.0)
    assert core.data_to_send(26.0) == []
    core.tick(27.0)
    assert core.data_to_send(27.0) == [b'{"type":6}\x1e']
    core.tick(28.0)
    assert core.data_to_send(28.0) == []  # one ping per interval, not per tick


def test_connection_long_polling_core_never_pings():
    core = open_core(sends_pings=False, limits=SessionLimits(client_timeout=100))
    core.tick(60.0)
    assert core.data_to_send(60.0) == []


def test_connection_client_silent_for_the_timeout_is_closed():
    core = open_core(limits=SessionLimits(client_timeout=30, keep_alive_interval=100))
    core.receive_data(b'{"type":6}\x1e', 10.0)  # a ping is traffic
    core.tick(39.9)
    assert core.is_open
    core.tick(40.0)
    assert core.close_reason is CloseReason.CLIENT_TIMEOUT
    assert core.data_to_send(40.0) == [b'{"type":7,"error":"Server timeout elapsed without '
                                       b'receiving a message from the client."}\x1e']


def test_connection_held_client_is_not_timed_out_until_released():
    core = open_core(limits=SessionLimits(client_timeout=30, keep_alive_interval=100))
    core.hold()
    core.tick(100.0)
    assert core.is_open
    core.release(100.0)
    core.tick(129.0)
    assert core.is_open
    core.tick(130.0)
    assert core.close_reason is CloseReason.CLIENT_TIMEOUT


def test_connection_transport_activity_counts_as_traffic():
    core = open_core(limits=SessionLimits(client_timeout=30, keep_alive_interval=100))
    core.note_activity(25.0)
    core.tick(54.0)
    assert core.is_open


# -- stateful reconnect -----------------------------------------------------------------------


def test_connection_buffers_only_with_a_version_2_handshake():
    assert open_core(stateful_requested=True).buffer is None
    core = stateful_core()
    assert core.buffer is not None


def test_connection_stateful_numbers_drops_duplicates_and_acks_on_its_timer():
    core = stateful_core(ack_interval=1.0, keep_alive_interval=100, client_timeout=100)
    message = b'{"type":1,"target":"a","arguments":[]}\x1e'
    core.receive_data(message + message, 0.5)
    assert len(core.events_received()) == 2
    core.tick(0.9)
    assert core.data_to_send(0.9) == []
    core.tick(1.0)
    assert core.data_to_send(1.0) == [b'{"type":8,"sequenceId":2}\x1e']
    core.receive_data(b'{"type":9,"sequenceId":2}\x1e' + message + message, 1.5)
    assert len(core.events_received()) == 1, "message 2 was already processed"
    core.tick(2.0)
    assert core.data_to_send(2.0) == [b'{"type":8,"sequenceId":3}\x1e']


def test_connection_stateful_sequence_beyond_what_arrived_is_a_protocol_error():
    core = stateful_core()
    core.receive_data(b'{"type":9,"sequenceId":5}\x1e', 1.0)
    assert isinstance(core.events_received()[-1], ConnectionFailed)
    assert core.close_reason is CloseReason.PROTOCOL_ERROR


def test_connection_stateful_detach_buffers_and_reattach_replays_in_order():
    core = stateful_core()
    core.send(Invocation(target="one"))
    core.data_to_send(1.0)
    core.transport_lost(2.0, clean=False)
    assert core.state is State.DETACHED and core.accepts_messages
    assert core.send(Invocation(target="two"))
    assert core.data_to_send(2.0) == [], "nothing goes out while detached"
    first, replayed = core.reattach()
    assert (first, replayed) == (1, 2)
    assert core.data_to_send(3.0) == [
        b'{"type":9,"sequenceId":1}\x1e',
        b'{"type":1,"target":"one","arguments":[]}\x1e',
        b'{"type":1,"target":"two","arguments":[]}\x1e',
    ]


def test_connection_acked_messages_are_not_replayed():
    core = stateful_core()
    core.send(Invocation(target="one"))
    core.send(Invocation(target="two"))
    core.receive_data(b'{"type":8,"sequenceId":1}\x1e', 1.0)
    core.transport_lost(2.0, clean=False)
    assert core.reattach() == (2, 1)


def test_connection_detached_too_long_ends():
    core = stateful_core(reconnect_grace=15)
    core.transport_lost(2.0, clean=False)
    core.tick(16.9)
    assert core.state is State.DETACHED
    core.tick(17.0)
    assert core.close_reason is CloseReason.NOT_REATTACHED


def test_connection_clean_or_stateless_transport_end_closes():
    core = stateful_core()
    core.transport_lost(1.0, clean=True)
    assert core.close_reason is CloseReason.CLIENT_CLOSED
    plain = open_core()
    plain.transport_lost(1.0, clean=False)
    assert plain.close_reason is CloseReason.CLIENT_GONE


def test_connection_unacknowledged_bound_drops_the_client():
    core = stateful_core(max_queued=2)
    assert core.send(Invocation(target="a")) and core.send(Invocation(target="b"))
    core.data_to_send(1.0)
    assert not core.send(Invocation(target="c"))
    assert core.close_reason is CloseReason.UNACKNOWLEDGED


def test_connection_reattach_needs_a_detached_stateful_core():
    with pytest.raises(InvalidState):
        open_core().reattach()


@given(st.binary(max_size=300))
def test_connection_never_raises_on_peer_bytes(data):
    core = HubConnection(now=0.0, limits=SessionLimits(max_message_size=100))
    core.receive_data(data, 0.0)
    core.receive_data(HANDSHAKE_JSON + data, 0.0)
    core.events_received()
    core.data_to_send(0.0)
    core.tick(1000.0)


@given(st.sampled_from(["json", "messagepack"]),
       st.lists(st.integers(min_value=1, max_value=40), max_size=20))
def test_connection_parses_any_chunking_of_a_valid_stream(protocol_name, cuts):
    protocol = PROTOCOLS[protocol_name]
    messages = [Invocation(target="a", arguments=[1, "two"], invocation_id="1"),
                Completion(invocation_id="9", result={"x": [1]}, has_result=True),
                Invocation(target="b", arguments=[])]
    data = (b'{"protocol":"%s","version":1}\x1e' % protocol_name.encode() + protocol.encode(Ping())
            + b"".join(protocol.encode(m) for m in messages))
    core = HubConnection(now=0.0)
    position = 0
    for cut in cuts:
        core.receive_data(data[position : position + cut], 0.0)
        position += cut
    core.receive_data(data[position:], 0.0)
    events = core.events_received()
    assert events == [HandshakeCompleted(protocol=protocol_name, version=1, stateful=False),
                      *messages]


def test_connection_ignores_ack_and_sequence_without_buffering():
    core = open_core()
    core.receive_data(b'{"type":8,"sequenceId":3}\x1e{"type":9,"sequenceId":3}\x1e', 1.0)
    assert core.events_received() == [] and core.is_open
    assert Ack(sequence_id=1) and Sequence(sequence_id=1)  # the types the core consumes
