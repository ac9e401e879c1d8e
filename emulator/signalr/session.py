"""A live client connection as the service sees it: who it is, its sans-I/O core, and the
transport attached to it right now.

The core (:class:`~emulator.signalr.protocol.connection.HubConnection`) owns every rule and the
queue of what waits to be written; a transport owns its :class:`Attachment` (the socket or HTTP
requests and the one writer waiting for data). Everything else (the hub state, the REST API,
upstream dispatch) holds :class:`Session` objects.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from .log import OnceLog, transport_log
from .protocol.connection import CloseReason, HubConnection

__all__ = ["Attachment", "Flag", "Flusher", "Session", "Wakeup"]


class Flag:
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

    async def wait(self) -> None:
        if self._set:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(waiter)
        try:
            await waiter
        finally:
            if self._waiters is not None and waiter in self._waiters:
                self._waiters.remove(waiter)


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


class Wakeup:
    """Wakes the one task that writes a connection's data when there is something to write.

    A bare future made only while the writer waits, and a timeout of one timer handle: every
    delivery of a broadcast passes here (no ``asyncio.Event``, no ``wait_for`` task).
    """

    __slots__ = ("_waiter",)

    def __init__(self) -> None:
        self._waiter: asyncio.Future[None] | None = None

    @property
    def waiting(self) -> bool:
        return self._waiter is not None

    def set(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait(self, timeout: float | None = None) -> None:
        """Until :meth:`set`; TimeoutError after ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiter = waiter
        timer = None if timeout is None else loop.call_later(timeout, _expire, waiter)
        try:
            await waiter
        finally:
            if timer is not None:
                timer.cancel()
            if self._waiter is waiter:
                self._waiter = None


class Flushable(Protocol):
    def flush(self) -> None: ...


class Flusher:
    """Writes every connection that was given something to send: one callback for a whole
    broadcast instead of a writer task woken per connection, and what a connection got
    meanwhile goes out in one frame.

    At the next turn of the loop; but within ``coalesce`` seconds of the last flush, at that
    time: a service that flushes that often is saturated, and joining the messages of those
    two milliseconds into one frame per connection saves a system call per message and
    connection. A service with spare time writes at once.
    """

    __slots__ = ("_coalesce", "_last", "_pending")

    def __init__(self, coalesce: float = 0.002) -> None:
        self._coalesce = coalesce
        self._last = float("-inf")
        self._pending: list[Flushable] = []

    def add(self, attachment: Flushable) -> None:
        """``attachment.flush()`` soon (it calls this once per flush)."""
        if not self._pending:
            loop = asyncio.get_running_loop()
            due = self._last + self._coalesce
            if loop.time() < due:
                loop.call_at(due, self._run)
            else:
                loop.call_soon(self._run)
        self._pending.append(attachment)

    def _run(self) -> None:
        self._last = asyncio.get_running_loop().time()
        pending, self._pending = self._pending, []
        for attachment in pending:
            attachment.flush()  # never raises: a failed write ends that transport only


class Attachment(Protocol):
    """What a transport lends a session while it is attached."""

    writing_since: float | None
    """When the write in progress began (None: not writing). A client that does not read
    blocks a write for good; the liveness sweep ends the transport after the client timeout."""

    def wake(self) -> None:
        """There is something to write, or the session ended: the transport sees to it."""

    def is_gone(self) -> bool:
        """The client's socket has gone away (seen without reading from it)."""

    def abort(self) -> None:
        """End the transport now, without waiting for what is queued."""


class Session:
    """One connection: identity, the core, the attachment, and the upstream order lock."""

    # One per client: slots keep an idle connection small (benchmarks/RESULTS.md, capacity).
    __slots__ = (
        "_lock", "attachment", "claims_header", "closed_seen", "connection_id",
        "connection_token", "core", "finished", "hub", "query_header", "refusals", "registered",
        "transport", "user_id",
    )

    def __init__(
        self, *, connection_id: str, connection_token: str, hub: str, transport: str,
        user_id: str | None, claims_header: str, query_header: str, core: HubConnection,
        refusals: OnceLog,
    ) -> None:
        self.connection_id = connection_id
        self.connection_token = connection_token
        """The secret ``id`` of later requests (equal to the connection id with version 0)."""
        self.hub = hub
        self.transport = transport
        """``WebSockets``, ``ServerSentEvents`` or ``LongPolling``; fixed for the session."""
        self.user_id = user_id
        self.claims_header = claims_header
        """The X-ASRS-User-Claims value; the decoded claims themselves are not kept."""
        self.query_header = query_header
        """The X-ASRS-Client-Query value (the query without its secrets; "": none)."""
        self.core = core
        self.refusals = refusals
        """The service's once-per-reason log of refusals."""
        self.attachment: Attachment | None = None
        self._lock: asyncio.Lock | None = None
        self.registered = False
        """Handshake done: in the hub state, and its ``disconnected`` event is owed upstream."""
        self.finished = Flag()
        self.closed_seen: float | None = None
        """When the liveness sweep first saw the core closed (the end of its patience)."""

    @property
    def lock(self) -> asyncio.Lock:
        """Held while a batch of client messages is handled: upstream calls stay in order.
        Made on the first batch (88 bytes an idle connection does not need)."""
        lock = self._lock
        if lock is None:
            lock = self._lock = asyncio.Lock()
        return lock

    @property
    def is_open(self) -> bool:
        return self.core.is_open

    def wake(self) -> None:
        attachment = self.attachment
        if attachment is not None:
            attachment.wake()

    def send_data(self, data: bytes, count: int = 1) -> bool:
        """Queue framed bytes holding ``count`` tracked messages; a client that cannot keep up
        is dropped here (logged), never waited for. False when not queued."""
        core = self.core
        if core.send_data(data, count):
            self.wake()
            return True
        if core.close_reason in (CloseReason.SLOW_CLIENT, CloseReason.UNACKNOWLEDGED):
            self.refusals.warning(transport_log, f"drop:{core.close_reason.name}",
                                  "dropping connection %s: %s", self.connection_id, core.error)
            self.abort_transport()
        return False

    def close(self, reason: CloseReason, detail: str | None = None, *,
              allow_reconnect: bool | None = None) -> None:
        """Send a Close message after what is queued, then end the transport."""
        self.core.close(reason, detail, allow_reconnect=allow_reconnect)
        self.wake()

    def abort_transport(self) -> None:
        attachment = self.attachment
        if attachment is not None:
            attachment.abort()
            attachment.wake()
