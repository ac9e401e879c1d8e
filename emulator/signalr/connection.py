"""A live client connection: identity, the sans-I/O core, and the bounded outbox.

Transports (``transports/``) own the socket or HTTP requests; this object is what the hub state,
the REST API and upstream dispatch see.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from .log import transport_log
from .outbox import Outbox
from .protocol.codec import HubProtocol
from .protocol.connection import HubConnection, State
from .protocol.messages import Ping
from .protocol.stateful import MessageBuffer
from .protocol.upstream import format_claims

__all__ = ["ClientConnection"]


class _Flag:
    """Set once, awaited by any number of tasks: ``asyncio.Event`` without its deque, which
    would cost every idle connection about 0.8 KB (benchmarks/RESULTS.md, capacity)."""

    __slots__ = ("_set", "_waiters")

    def __init__(self) -> None:
        self._set = False
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    async def wait(self) -> bool:
        if self._set:
            return True
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(waiter)
        try:
            await waiter
        finally:
            if self._waiters is not None and waiter in self._waiters:
                self._waiters.remove(waiter)
        return True


def _always_alive() -> bool:
    return True


class ClientConnection:
    # Slots: a connection object per client, so an instance dict (about 1 KB with this many
    # attributes) shows in the memory per idle connection.
    __slots__ = (
        "abort_transport", "attach_generation", "buffer", "claims_header", "clean_close",
        "client_query", "close_error", "connection_id", "connection_token", "core", "detached",
        "finished", "grace_task", "handshake_timeout", "hub", "last_activity", "last_sent",
        "lock", "outbox", "poll", "post_busy", "registered", "stateful_requested", "transport",
        "transport_alive", "user_id", "writer_task",
    )

    def __init__(
        self,
        *,
        connection_id: str,
        connection_token: str,
        hub: str,
        transport: str,
        claims: Mapping[str, Any],
        user_id: str | None,
        client_query: str,
        core: HubConnection,
        queue_size: int,
    ) -> None:
        self.connection_id = connection_id
        self.connection_token = connection_token
        self.hub = hub
        self.transport = transport
        self.claims_header = format_claims(claims) if claims else ""
        """The X-ASRS-User-Claims value; the decoded claims themselves are not kept."""
        self.user_id = user_id
        self.client_query = client_query
        self.core = core
        self.outbox = Outbox(queue_size)
        self.registered = False
        self.close_error: str | None = None
        self.finished = _Flag()
        self.lock = asyncio.Lock()
        """Held while a batch of client messages is handled: upstream calls stay in order."""
        self.abort_transport: Callable[[], None] | None = None
        self.last_sent = 0.0
        """Event-loop time of the last frame sent (WebSockets: the keep-alive Ping's clock)."""
        self.last_activity = 0.0
        """Event-loop time of the last client request or message (HTTP transports' timeout)."""
        self.post_busy = False
        """An HTTP POST send is being handled (a second one gets 409)."""
        self.poll: asyncio.Future[None] | None = None
        """Resolved to end the pending long poll early (a newer poll or a DELETE, 204)."""
        self.stateful_requested = False
        self.buffer: MessageBuffer | None = None
        """Set when stateful reconnect is on for this connection."""
        self.detached = False
        """The WebSocket dropped; the connection waits ``reconnect_grace`` for a reattach."""
        self.grace_task: asyncio.Task[None] | None = None
        self.handshake_timeout = 15.0
        """Seconds the client has for its handshake (config, or the ``asrs.s.cht`` claim)."""
        self.attach_generation = 0
        """Counts WebSocket (re)attaches; a superseded socket's handler leaves quietly."""
        self.writer_task: asyncio.Task[None] | None = None
        self.transport_alive: Callable[[], bool] = _always_alive
        self.clean_close = False
        """The client ended the transport with a close frame (no reattach follows)."""

    @property
    def protocol(self) -> HubProtocol | None:
        return self.core.protocol

    @property
    def binary(self) -> bool:
        protocol = self.core.protocol
        return protocol is not None and protocol.transfer_format == "Binary"

    @property
    def is_open(self) -> bool:
        return self.core.state is State.OPEN and not self.outbox.closed

    def ping_bytes(self) -> bytes | None:
        protocol = self.core.protocol
        return protocol.encode(Ping()) if protocol is not None else None

    def push(self, data: bytes) -> bool:
        """Queue framed bytes; a full queue drops this client (logged), never blocks."""
        if self.outbox.put(data):
            return True
        if not self.outbox.closed:
            transport_log.warning(
                "dropping connection %s: %d messages waiting, the client is too slow",
                self.connection_id, len(self.outbox),
            )
            self.abort("Connection dropped: the client did not keep up with its messages.")
        return False

    def push_tracked(self, data: bytes, count: int = 1) -> bool:
        """Queue hub messages that stateful reconnect numbers and buffers (types 1-5)."""
        if self.buffer is not None and not self.outbox.closed and not self.buffer.track(
                data, count):
            transport_log.warning("dropping connection %s: %d messages not acknowledged",
                                  self.connection_id, self.buffer.buffered)
            self.abort("Connection dropped: too many unacknowledged messages.")
            return False
        if self.detached:
            return not self.outbox.closed  # replayed from the buffer on reattach
        return self.push(data)

    def flush(self) -> None:
        """Move what the core wants to send into the outbox; close it once the core is closed."""
        for data in self.core.data_to_send():
            self.push(data)
        if self.core.state is State.CLOSED and not self.outbox.closed:
            self.outbox.close()

    def close(self, error: str | None = None, *, allow_reconnect: bool | None = None) -> None:
        """Send a Close message after what is queued, then end the transport."""
        if self.close_error is None:
            self.close_error = error
        self.core.close(error, allow_reconnect=allow_reconnect)
        final = b"".join(self.core.data_to_send())
        self.outbox.close(final or None)

    def abort(self, error: str) -> None:
        """End at once, without waiting for queued messages (a stuck client)."""
        self.close_error = self.close_error or error
        self.core.close()
        self.core.data_to_send()
        self.outbox.drain()
        self.outbox.close()
        if self.abort_transport is not None:
            self.abort_transport()
