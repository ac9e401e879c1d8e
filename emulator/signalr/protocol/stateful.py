"""Stateful reconnect bookkeeping, pure (docs/client-protocol.md, "Stateful reconnect").

Only Invocation, StreamItem, Completion, StreamInvocation and CancelInvocation are numbered,
from 1, for the whole logical connection. Outgoing ones stay buffered until the peer acks them;
after a reattach the service sends Sequence{oldest unacked id} and replays them, as ASP.NET's
``MessageBuffer`` and the JS client do (the spec's wording differs). Incoming ones
are counted the same way; a Sequence from the peer rewinds the count, and anything numbered at or
below the highest id already processed is a duplicate and skipped.
"""

from __future__ import annotations

from collections import deque

from ...contracts.messages import (
    CancelInvocation,
    Completion,
    HubMessage,
    Invocation,
    StreamInvocation,
    StreamItem,
)
from ...errors import ProtocolError

__all__ = ["MessageBuffer", "is_tracked"]

_TRACKED = (Invocation, StreamItem, Completion, StreamInvocation, CancelInvocation)


def is_tracked(message: HubMessage) -> bool:
    return isinstance(message, _TRACKED)


class MessageBuffer:
    def __init__(self, max_messages: int) -> None:
        self._max_messages = max_messages
        self._sent: deque[tuple[int, bytes, int]] = deque()  # (first id, framed bytes, count)
        self._buffered = 0
        self.next_sent_id = 1
        self.last_received_id = 0
        """Highest incoming id processed (what an Ack reports)."""
        self._incoming_id = 0
        self.last_ack_sent = 0

    @property
    def buffered(self) -> int:
        """Outgoing messages not yet acknowledged."""
        return self._buffered

    def track(self, data: bytes, count: int = 1) -> bool:
        """Buffer ``count`` outgoing tracked messages framed in ``data``; False when full."""
        if self._buffered + count > self._max_messages:
            return False
        self._sent.append((self.next_sent_id, data, count))
        self.next_sent_id += count
        self._buffered += count
        return True

    def ack(self, sequence_id: int) -> None:
        """The peer has processed every message up to ``sequence_id``."""
        while self._sent and self._sent[0][0] + self._sent[0][2] - 1 <= sequence_id:
            _, _, count = self._sent.popleft()
            self._buffered -= count

    def replay(self) -> tuple[int, list[bytes]]:
        """(Sequence id to announce, buffered data to resend in order)."""
        first = self._sent[0][0] if self._sent else self.next_sent_id
        return first, [data for _, data, _ in self._sent]

    def accept_incoming(self) -> bool:
        """Number one incoming tracked message; False when it is a duplicate."""
        self._incoming_id += 1
        if self._incoming_id <= self.last_received_id:
            return False
        self.last_received_id = self._incoming_id
        return True

    def rewind_incoming(self, sequence_id: int) -> None:
        """The peer's Sequence: its next message carries ``sequence_id``."""
        if sequence_id > self.last_received_id + 1:
            raise ProtocolError("Sequence ID greater than amount of messages we've received.")
        self._incoming_id = sequence_id - 1

    def ack_due(self) -> int | None:
        """The id to ack now, if anything arrived since the last Ack."""
        if self.last_received_id > self.last_ack_sent:
            self.last_ack_sent = self.last_received_id
            return self.last_received_id
        return None
