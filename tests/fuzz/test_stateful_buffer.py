"""Fuzzing stateful-reconnect bookkeeping (docs/client-protocol.md, "Stateful reconnect").

A model of the peer drives the buffer with any interleaving of sends, acks, drops and replays:
after every reattach the peer gets each unacknowledged message exactly once, in order, and the
incoming side counts each of the peer's messages once however often the peer resends.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from emulator.errors import ProtocolError
from emulator.signalr.protocol.stateful import MessageBuffer
from tests.fuzz.fuzzing import FUZZ

_steps = st.lists(st.one_of(
    st.tuples(st.just("send"), st.integers(min_value=1, max_value=3)),
    st.tuples(st.just("ack"), st.integers(min_value=-2, max_value=30)),
    st.tuples(st.just("reattach"), st.just(0)),
), max_size=40)


@FUZZ
@given(_steps, st.integers(min_value=1, max_value=20))
def test_message_buffer_replays_each_unacked_message_once_in_order(
    steps: list[tuple[str, int]], limit: int
) -> None:
    """Whatever the interleaving, a replay is exactly the batches not wholly acknowledged.

    A batch (several records in one transport message, e.g. an upstream answer) is kept and
    replayed whole until its last id is acked; the peer skips ids it has already processed.
    """
    buffer = MessageBuffer(limit)
    batches: list[list[int]] = []  # sequence ids the buffer accepted, per transport message
    tracked: list[int] = []
    acked = 0
    delivered: list[int] = []  # what the peer processed, in order, skipping what it had
    for action, value in steps:
        if action == "send":
            batch = list(range(buffer.next_sent_id, buffer.next_sent_id + value))
            if buffer.track(",".join(map(str, batch)).encode(), value):
                batches.append(batch)
                tracked += batch
                delivered += batch
            else:
                assert buffer.buffered + value > limit, "refused although there was room"
        elif action == "ack":
            # The peer acks an id it has processed (acks never go backwards).
            if delivered:
                acked = max(acked, min(max(value, 0), delivered[-1]))
                buffer.ack(acked)
        else:  # the transport drops; the buffer replays to the reattached peer
            first, data = buffer.replay()
            replayed = [int(n) for chunk in data for n in chunk.decode().split(",")]
            assert replayed == [n for b in batches if b[-1] > acked for n in b]
            assert first == (replayed[0] if replayed else buffer.next_sent_id)
            delivered += [n for n in replayed if n > delivered[-1]] if delivered else replayed
        assert buffer.buffered == sum(len(b) for b in batches if b[-1] > acked) <= limit
    assert delivered == sorted(set(delivered)) == tracked, "lost, duplicated or reordered"


@FUZZ
@given(st.lists(st.one_of(st.just("message"), st.integers(min_value=0, max_value=12)),
                max_size=40))
def test_message_buffer_counts_each_incoming_message_once(events: list[str | int]) -> None:
    """Messages, and Sequence rewinds from the peer: accepted ids are 1, 2, 3... exactly once."""
    buffer = MessageBuffer(10)
    accepted = 0
    for event in events:
        if event == "message":
            if buffer.accept_incoming():
                accepted += 1
                assert buffer.last_received_id == accepted
        else:
            try:
                buffer.rewind_incoming(event)
            except ProtocolError:
                assert event > buffer.last_received_id + 1
    ack = buffer.ack_due()
    assert ack is None or ack == accepted == buffer.last_received_id
