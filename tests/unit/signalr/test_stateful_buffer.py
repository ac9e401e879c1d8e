"""The stateful-reconnect message buffer: numbering, acks, replay, duplicates."""

from __future__ import annotations

import pytest

from emulator.contracts.messages import Ack, Close, Completion, Invocation, Ping, Sequence
from emulator.errors import ProtocolError
from emulator.signalr.protocol.stateful import MessageBuffer, is_tracked


@pytest.mark.parametrize(("message", "tracked"), [
    (Invocation(target="t"), True), (Completion.void("1"), True), (Ping(), False),
    (Close(), False), (Ack(sequence_id=1), False), (Sequence(sequence_id=1), False),
])
def test_stateful_buffer_tracks_only_types_1_to_5(message, tracked):
    assert is_tracked(message) is tracked


def test_stateful_buffer_replays_unacked_from_oldest_id():
    buffer = MessageBuffer(max_messages=10)
    assert buffer.replay() == (1, [])
    buffer.track(b"a")
    buffer.track(b"bc", count=2)
    buffer.track(b"d")
    assert buffer.replay() == (1, [b"a", b"bc", b"d"])
    buffer.ack(1)
    assert buffer.replay() == (2, [b"bc", b"d"])
    buffer.ack(2)  # "bc" holds ids 2 and 3: not fully acknowledged yet
    assert buffer.replay() == (2, [b"bc", b"d"])
    buffer.ack(4)
    assert buffer.replay() == (5, [])
    assert buffer.buffered == 0


def test_stateful_buffer_refuses_past_its_bound():
    buffer = MessageBuffer(max_messages=2)
    assert buffer.track(b"a") and buffer.track(b"b")
    assert not buffer.track(b"c")


def test_stateful_buffer_skips_duplicates_after_sequence():
    buffer = MessageBuffer(max_messages=10)
    assert [buffer.accept_incoming() for _ in range(3)] == [True, True, True]
    assert buffer.ack_due() == 3
    assert buffer.ack_due() is None
    buffer.rewind_incoming(2)  # the peer replays from id 2
    assert [buffer.accept_incoming() for _ in range(3)] == [False, False, True]
    assert buffer.last_received_id == 4


def test_stateful_buffer_refuses_sequence_from_the_future():
    buffer = MessageBuffer(max_messages=10)
    buffer.accept_incoming()
    buffer.rewind_incoming(2)
    with pytest.raises(ProtocolError):
        buffer.rewind_incoming(4)
