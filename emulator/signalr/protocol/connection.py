"""One client's hub connection, sans I/O (in the style of websockets' ``Protocol``).

The shell feeds what the transport received with :meth:`HubConnection.receive_data`, handles
:meth:`events_received`, and writes out :meth:`data_to_send`; each item of that list is one whole
transport message (a WebSocket frame, an SSE event, a poll body).

Peer errors never raise: the core records the error, queues the answer the protocol wants (a
handshake error or a Close message), and moves to ``CLOSED`` (signalr-protocol.md §4.2, §6.4).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .codec import HubProtocol, RecordSplitter
from .errors import InvalidState, ProtocolError
from .framing import RECORD_SEPARATOR
from .handshake import PROTOCOLS, handshake_response, parse_handshake_request, select_protocol
from .messages import Close, HubMessage

__all__ = ["ConnectionFailed", "Event", "HandshakeCompleted", "HubConnection", "State"]


class State(enum.Enum):
    HANDSHAKE = "handshake"
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True, kw_only=True)
class HandshakeCompleted:
    """The handshake succeeded; the ``{}`` answer is queued."""

    protocol: str
    version: int


@dataclass(frozen=True, kw_only=True)
class ConnectionFailed:
    """The peer broke the protocol; the answer is queued and the core is closed."""

    error: str


Event = HandshakeCompleted | ConnectionFailed | HubMessage


class HubConnection:
    """Handshake, then hub messages in the negotiated protocol."""

    # One per client: slots keep an idle connection small (benchmarks/RESULTS.md, capacity).
    __slots__ = (
        "_events", "_handshake_buffer", "_max_message_size", "_outgoing", "_protocols",
        "_reader", "_transfer_formats", "failure", "protocol", "state", "version",
    )

    def __init__(
        self,
        *,
        protocols: Mapping[str, HubProtocol] = PROTOCOLS,
        transfer_formats: Iterable[str] = ("Text", "Binary"),
        max_message_size: int | None = None,
    ) -> None:
        self.state = State.HANDSHAKE
        self.protocol: HubProtocol | None = None
        self.version: int | None = None
        self.failure: ProtocolError | None = None
        self._protocols = protocols
        self._transfer_formats = tuple(transfer_formats)
        self._max_message_size = max_message_size
        self._handshake_buffer = bytearray()
        self._reader: RecordSplitter | None = None
        self._events: list[Event] = []
        self._outgoing: list[bytes] = []

    # -- public methods for receiving data ----------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Feed bytes from the transport; parsed events pile up for :meth:`events_received`."""
        if self.state is State.CLOSED:
            return
        if self.state is State.HANDSHAKE:
            data = self._receive_handshake(data)
            if self.state is not State.OPEN or not data:
                return
        assert self._reader is not None and self.protocol is not None
        try:
            for record in self._reader.feed(data):
                message = self.protocol.decode_payload(record)
                self._events.append(message)
                if isinstance(message, Close):
                    # The peer is leaving; nothing after its Close is read, none is sent back.
                    self.state = State.CLOSED
                    return
        except ProtocolError as exc:
            self._fail(exc)

    def events_received(self) -> list[Event]:
        events, self._events = self._events, []
        return events

    # -- public methods for sending data ------------------------------------------------------

    def send(self, message: HubMessage) -> None:
        if self.state is not State.OPEN or self.protocol is None:
            raise InvalidState(f"cannot send a message in state {self.state.value}")
        self._outgoing.append(self.protocol.encode(message))

    def close(self, error: str | None = None, *, allow_reconnect: bool | None = None) -> None:
        """Queue a Close message (when open) and move to ``CLOSED``; idempotent."""
        if self.state is State.OPEN and self.protocol is not None:
            self._outgoing.append(
                self.protocol.encode(Close(error=error, allow_reconnect=allow_reconnect))
            )
        elif self.state is State.HANDSHAKE and error is not None:
            self._outgoing.append(handshake_response(error))
        self.state = State.CLOSED

    def data_to_send(self) -> list[bytes]:
        data, self._outgoing = self._outgoing, []
        return data

    # -- private ------------------------------------------------------------------------------

    def _receive_handshake(self, data: bytes) -> bytes:
        self._handshake_buffer += data
        end = self._handshake_buffer.find(RECORD_SEPARATOR)
        if end < 0:
            limit = self._max_message_size
            if limit is not None and len(self._handshake_buffer) > limit:
                self._fail(ProtocolError("Handshake request is too large."))
            return b""
        record = bytes(self._handshake_buffer[:end])
        rest = bytes(self._handshake_buffer[end + 1 :])
        self._handshake_buffer.clear()
        try:
            request = parse_handshake_request(record)
            protocol = select_protocol(
                request, protocols=self._protocols, transfer_formats=self._transfer_formats
            )
        except ProtocolError as exc:
            self._fail(exc)
            return b""
        self.protocol = protocol
        self.version = request.version
        self._reader = protocol.make_reader(self._max_message_size)
        self.state = State.OPEN
        self._outgoing.append(handshake_response())
        self._events.append(HandshakeCompleted(protocol=protocol.name, version=request.version))
        return rest

    def _fail(self, exc: ProtocolError) -> None:
        self.failure = exc
        self.close(str(exc))
        self._events.append(ConnectionFailed(error=str(exc)))
