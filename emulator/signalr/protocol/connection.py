"""One client's hub connection, sans I/O (in the style of websockets' ``Protocol``).

Every rule of a SignalR session lives here: the handshake, the hub messages, the bounded queue of
what waits for the transport, keep-alive pings and the timeouts, stateful reconnect (Ack,
Sequence, buffering, detach, reattach and replay) and why the connection closed. The shells
(``session.py`` and the transports) only move bytes:

- :meth:`HubConnection.receive_data` takes what the transport received; parsed messages pile up
  for :meth:`events_received`;
- :meth:`send` / :meth:`send_data` queue outgoing messages; :meth:`data_to_send` hands them out,
  each item one whole record (or several, for an upstream answer) ready to frame;
- :meth:`tick` is called periodically with the time and takes every timer decision.

Peer errors never raise: the core records the error, queues the answer the protocol wants (a
handshake error or a Close message), reports :class:`ConnectionFailed` and moves to ``CLOSED``
(docs/client-protocol.md, "Errors"). Misuse by our own code raises :class:`InvalidState`.
The core never reads the clock: every method that needs the time takes ``now``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ...contracts.codec import HubProtocol, RecordSplitter
from ...contracts.framing import RECORD_SEPARATOR
from ...contracts.messages import Ack, Close, HubMessage, Ping, Sequence
from ...contracts.protocols import PROTOCOLS
from ...errors import InvalidState, ProtocolError
from .handshake import handshake_response, parse_handshake_request, select_protocol
from .stateful import MessageBuffer, is_tracked

__all__ = [
    "CloseReason",
    "ConnectionFailed",
    "Event",
    "HandshakeCompleted",
    "HubConnection",
    "SessionLimits",
    "State",
]


class State(enum.Enum):
    HANDSHAKE = "handshake"
    OPEN = "open"
    DETACHED = "detached"
    """Stateful reconnect: the transport dropped; messages are buffered for a reattach."""
    CLOSED = "closed"


class CloseReason(enum.Enum):
    """Why a connection ended. :attr:`message` is the error text its Close message and the
    ``disconnected`` upstream event carry (``None``: a clean close)."""

    CLIENT_CLOSED = "client-closed"
    """The client sent a Close message, a WebSocket close frame or a long-polling DELETE."""
    CLOSED_BY_SERVER = "closed-by-server"
    """The REST API closed it; its ``reason`` parameter, if any, is the detail."""
    PROTOCOL_ERROR = "protocol-error"
    """The client broke the hub protocol; the parser's message is the detail."""
    HANDSHAKE_TIMEOUT = "handshake-timeout"
    CLIENT_TIMEOUT = "client-timeout"
    SLOW_CLIENT = "slow-client"
    UNACKNOWLEDGED = "unacknowledged"
    NOT_REATTACHED = "not-reattached"
    CLIENT_GONE = "client-gone"
    TRANSPORT_ERROR = "transport-error"
    INTERNAL_ERROR = "internal-error"
    SHUTTING_DOWN = "shutting-down"

    @property
    def message(self) -> str | None:
        return _CLOSE_MESSAGES[self]


_CLOSE_MESSAGES: dict[CloseReason, str | None] = {
    CloseReason.CLIENT_CLOSED: None,
    CloseReason.CLOSED_BY_SERVER: None,
    CloseReason.PROTOCOL_ERROR: "The client broke the hub protocol.",
    CloseReason.HANDSHAKE_TIMEOUT: "Handshake was canceled.",
    CloseReason.CLIENT_TIMEOUT:
        "Server timeout elapsed without receiving a message from the client.",
    CloseReason.SLOW_CLIENT: "Connection dropped: the client did not keep up with its messages.",
    CloseReason.UNACKNOWLEDGED: "Connection dropped: too many unacknowledged messages.",
    CloseReason.NOT_REATTACHED: "The client did not reconnect.",
    CloseReason.CLIENT_GONE: "The client went away.",
    CloseReason.TRANSPORT_ERROR: "WebSocket error.",
    CloseReason.INTERNAL_ERROR: "Connection closed with an error.",
    CloseReason.SHUTTING_DOWN: "Service is shutting down.",
}


@dataclass(frozen=True, kw_only=True)
class SessionLimits:
    """The timers and bounds of every connection (one shared instance per service)."""

    max_message_size: int | None = 1024 * 1024
    """Largest record a client may send, in bytes."""
    max_queued: int = 1000
    """Messages waiting for the transport (and, with stateful reconnect, unacknowledged)."""
    handshake_timeout: float = 15.0
    keep_alive_interval: float = 15.0
    """Seconds of outbound silence before a Ping."""
    client_timeout: float = 30.0
    """Seconds without anything from the client before it is dropped."""
    ack_interval: float = 1.0
    """Seconds between Acks while stateful reconnect is on (ASP.NET acks on a timer)."""
    reconnect_grace: float = 15.0
    """Seconds a detached stateful connection waits for its client to reattach."""


@dataclass(frozen=True, kw_only=True)
class HandshakeCompleted:
    """The handshake succeeded; the ``{}`` answer is queued."""

    protocol: str
    version: int
    stateful: bool
    """Stateful reconnect is on: messages are numbered and buffered."""


@dataclass(frozen=True, kw_only=True)
class ConnectionFailed:
    """The peer broke the protocol; the answer is queued and the core is closed."""

    error: ProtocolError


Event = HandshakeCompleted | ConnectionFailed | HubMessage

_PING: dict[str, bytes] = {}


def _ping_bytes(protocol: HubProtocol) -> bytes:
    data = _PING.get(protocol.name)
    if data is None:
        data = _PING[protocol.name] = protocol.encode(Ping())
    return data


class HubConnection:
    """Handshake, then hub messages in the negotiated protocol, until closed."""

    # One per client: slots keep an idle connection small (benchmarks/RESULTS.md, capacity).
    __slots__ = (
        "_ack_sent_at", "_events", "_handshake_buffer", "_holds", "_outgoing", "_protocols",
        "_reader", "_transfer_formats", "buffer", "close_detail", "close_reason",
        "detached_at", "last_received", "last_sent", "limits", "opened_at", "protocol",
        "sends_pings", "state", "stateful_requested", "version",
    )

    def __init__(
        self,
        *,
        now: float,
        limits: SessionLimits = SessionLimits(),
        protocols: Mapping[str, HubProtocol] = PROTOCOLS,
        transfer_formats: Iterable[str] = ("Text", "Binary"),
        stateful_requested: bool = False,
        sends_pings: bool = True,
    ) -> None:
        self.limits = limits
        self.state = State.HANDSHAKE
        self.protocol: HubProtocol | None = None
        self.version: int | None = None
        self.stateful_requested = stateful_requested
        """The client asked for stateful reconnect at negotiate, on a transport that has it."""
        self.sends_pings = sends_pings
        self.buffer: MessageBuffer | None = None
        """Numbering and replay of messages once stateful reconnect is on."""
        self.close_reason: CloseReason | None = None
        self.close_detail: str | None = None
        self.opened_at = self.last_received = self.last_sent = self._ack_sent_at = now
        self.detached_at: float | None = None
        self._holds = 0
        self._protocols = protocols
        self._transfer_formats = tuple(transfer_formats)
        self._handshake_buffer: bytearray | None = bytearray()
        self._reader: RecordSplitter | None = None
        # None until something is queued: most connections are idle most of the time, and two
        # empty lists are 112 bytes of each.
        self._events: list[Event] | None = None
        self._outgoing: list[bytes] | None = None

    # -- state ---------------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self.state is State.OPEN

    @property
    def accepts_messages(self) -> bool:
        """Open, or detached and buffering for the reattach."""
        return self.state is State.OPEN or self.state is State.DETACHED

    @property
    def is_closed(self) -> bool:
        return self.state is State.CLOSED

    @property
    def binary(self) -> bool:
        return self.protocol is not None and self.protocol.transfer_format == "Binary"

    @property
    def error(self) -> str | None:
        """The error text of the close: the detail, else the reason's text (None: clean)."""
        if self.close_reason is None:
            return None
        return self.close_detail or self.close_reason.message

    @property
    def pending(self) -> int:
        """Items waiting for the transport."""
        return len(self._outgoing or ())

    def hold(self) -> None:
        """The client is waiting on us (a held long poll, its messages being handled): its
        silence does not count towards the client timeout until :meth:`release`."""
        self._holds += 1

    def release(self, now: float) -> None:
        self._holds = max(self._holds - 1, 0)
        self.last_received = max(self.last_received, now)

    def note_activity(self, now: float) -> None:
        """The client did something at the transport level (a poll, a POST)."""
        self.last_received = max(self.last_received, now)

    # -- receiving -----------------------------------------------------------------------------

    def receive_data(self, data: bytes, now: float) -> None:
        """Feed bytes from the transport; parsed events pile up for :meth:`events_received`."""
        if self.state is State.CLOSED:
            return
        self.last_received = now
        if self.state is State.HANDSHAKE:
            data = self._receive_handshake(data)
            if not self.is_open or not data:
                return
        assert self._reader is not None and self.protocol is not None
        try:
            for record in self._reader.feed(data):
                message = self.protocol.decode_payload(record)
                if self._receive_message(message):
                    return
        except ProtocolError as exc:
            self._fail(exc)

    def events_received(self) -> list[Event]:
        events, self._events = self._events, None
        return events or []

    def _receive_message(self, message: HubMessage) -> bool:
        """Handle one parsed message; True when nothing after it may be read."""
        buffer = self.buffer
        if buffer is not None:
            if is_tracked(message) and not buffer.accept_incoming():
                return False  # a duplicate the peer replayed after a reattach
            if isinstance(message, Ack):
                buffer.ack(message.sequence_id)
                return False
            if isinstance(message, Sequence):
                buffer.rewind_incoming(message.sequence_id)  # ProtocolError when impossible
                return False
        if isinstance(message, Ping | Ack | Sequence):
            return False  # traffic only (Ack and Sequence mean nothing without buffering)
        self._event(message)
        if isinstance(message, Close):
            # The peer is leaving; nothing after its Close is read, none is sent back.
            self._end(CloseReason.CLIENT_CLOSED, None)
            self._outgoing = None
            return True
        return False

    # -- sending -------------------------------------------------------------------------------

    def send(self, message: HubMessage) -> bool:
        """Queue a message; see :meth:`send_data`."""
        if self.protocol is None or self.state in (State.HANDSHAKE, State.CLOSED):
            raise InvalidState(f"cannot send a message in state {self.state.value}")
        count = 1 if is_tracked(message) else 0
        return self.send_data(self.protocol.encode(message), count)

    def send_data(self, data: bytes, count: int = 1) -> bool:
        """Queue framed bytes holding ``count`` tracked hub messages (Invocation, Completion…).

        False when the connection is not open, or when this client cannot keep up: then its
        queue (or its stateful buffer) is full, it is closed at once, and the caller ends its
        transport. A detached connection only buffers tracked messages, for the replay.
        """
        state = self.state
        if state is not State.OPEN and state is not State.DETACHED:
            return False
        buffer = self.buffer
        if buffer is not None and count and not buffer.track(data, count):
            self.abort(CloseReason.UNACKNOWLEDGED)
            return False
        if state is State.DETACHED:
            return True
        outgoing = self._outgoing
        if outgoing is None:
            self._outgoing = [data]
        elif len(outgoing) >= self.limits.max_queued:
            self.abort(CloseReason.SLOW_CLIENT)
            return False
        else:
            outgoing.append(data)
        return True

    def data_to_send(self, now: float) -> list[bytes]:
        """Everything queued, in order; the transport writes it now."""
        data, self._outgoing = self._outgoing, None
        if data is None:
            return []
        self.last_sent = now
        return data

    # -- ending --------------------------------------------------------------------------------

    def close(self, reason: CloseReason, detail: str | None = None, *,
              allow_reconnect: bool | None = None) -> None:
        """Queue a Close message (or a handshake error) after what is queued; idempotent."""
        if self.state is State.CLOSED:
            return
        error = detail or reason.message
        if self.state is State.OPEN and self.protocol is not None:
            self._queue(self.protocol.encode(Close(error=error, allow_reconnect=allow_reconnect)))
        elif self.state is State.HANDSHAKE and error is not None:
            self._queue(handshake_response(error))
        self._end(reason, detail)

    def abort(self, reason: CloseReason) -> None:
        """End at once: what is queued is dropped, no Close is sent (a stuck or gone client)."""
        if self.state is State.CLOSED:
            return
        self._outgoing = None
        self._end(reason, None)

    def _end(self, reason: CloseReason, detail: str | None) -> None:
        self.state = State.CLOSED
        self.close_reason, self.close_detail = reason, detail
        self._handshake_buffer = None

    # -- stateful reconnect --------------------------------------------------------------------

    def transport_lost(self, now: float, *, clean: bool) -> None:
        """The transport ended. With stateful reconnect an unclean end detaches (the client may
        come back with the same id); otherwise the connection is over."""
        if self.state is State.OPEN and self.buffer is not None and not clean:
            self.state = State.DETACHED
            self.detached_at = now
            self._outgoing = None  # the buffer replays what matters
        elif clean:
            self.abort(CloseReason.CLIENT_CLOSED)
        else:
            self.abort(CloseReason.CLIENT_GONE)

    def reattach(self) -> tuple[int, int]:
        """A new transport for a detached connection: Sequence{first unacked id}, then the
        replay, are queued (docs/client-protocol.md, "Stateful reconnect").

        Returns (first id, messages replayed).
        """
        if self.state is not State.DETACHED or self.buffer is None or self.protocol is None:
            raise InvalidState(f"cannot reattach in state {self.state.value}")
        self.state = State.OPEN
        self.detached_at = None
        first, items = self.buffer.replay()
        self._outgoing = [self.protocol.encode(Sequence(sequence_id=first)), *items]
        return first, len(items)

    # -- timers --------------------------------------------------------------------------------

    def tick(self, now: float) -> None:
        """Every timer decision: handshake and client timeouts, Pings, Acks, the end of the
        reattach grace. Call it every fraction of a second; it queues what is due."""
        state = self.state
        limits = self.limits
        if state is State.OPEN:
            if not self._holds and now - self.last_received >= limits.client_timeout:
                self.close(CloseReason.CLIENT_TIMEOUT)
                return
            buffer = self.buffer
            if buffer is not None and now - self._ack_sent_at >= limits.ack_interval:
                self._ack_sent_at = now
                ack = buffer.ack_due()
                if ack is not None and self.protocol is not None:
                    self._queue(self.protocol.encode(Ack(sequence_id=ack)))
            if (self.sends_pings and not self._outgoing
                    and now - self.last_sent >= limits.keep_alive_interval):
                assert self.protocol is not None
                self._queue(_ping_bytes(self.protocol))
                self.last_sent = now  # one Ping per interval, even before it is written
        elif state is State.HANDSHAKE:
            if now - self.opened_at >= limits.handshake_timeout:
                self.close(CloseReason.HANDSHAKE_TIMEOUT)
        elif state is State.DETACHED:
            assert self.detached_at is not None
            if now - self.detached_at >= limits.reconnect_grace:
                self.abort(CloseReason.NOT_REATTACHED)

    # -- private -------------------------------------------------------------------------------

    def _receive_handshake(self, data: bytes) -> bytes:
        buffer = self._handshake_buffer
        assert buffer is not None
        buffer += data
        end = buffer.find(RECORD_SEPARATOR)
        if end < 0:
            limit = self.limits.max_message_size
            if limit is not None and len(buffer) > limit:
                self._fail(ProtocolError("Handshake request is too large."))
            return b""
        record, rest = bytes(buffer[:end]), bytes(buffer[end + 1:])
        self._handshake_buffer = None
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
        self._reader = protocol.make_reader(self.limits.max_message_size)
        self.state = State.OPEN
        # Buffering needs a version 2 handshake (docs/client-protocol.md, "Stateful reconnect").
        stateful = self.stateful_requested and request.version >= 2
        if stateful:
            self.buffer = MessageBuffer(self.limits.max_queued)
        self._queue(handshake_response())
        self._event(HandshakeCompleted(protocol=protocol.name, version=request.version,
                                       stateful=stateful))
        return rest

    def _fail(self, exc: ProtocolError) -> None:
        self.close(CloseReason.PROTOCOL_ERROR, str(exc))
        self._event(ConnectionFailed(error=exc))

    def _queue(self, data: bytes) -> None:
        """Queue bytes of our own (handshake answer, Close, Ping, Ack): never refused."""
        if self._outgoing is None:
            self._outgoing = [data]
        else:
            self._outgoing.append(data)

    def _event(self, event: Event) -> None:
        if self._events is None:
            self._events = [event]
        else:
            self._events.append(event)
