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
    would cost every idle connection about 0.8 KB (benchmarks/RESULTS.md, capacity).
    Never awaited before it is set, it makes no future."""

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
    flushed_at: float
    """When the flusher last wrote it (loop time; -inf: never)."""

    def flush(self) -> None: ...


class Flusher:
    """Writes every connection that was given something to send: one callback for a whole
    broadcast instead of a writer task woken per connection, and what a connection got
    meanwhile goes out in one frame.

    At the next turn of the loop; but a connection written less than ``coalesce`` seconds ago
    waits until then: messages that come to one connection that often come from a saturated
    service, and joining those of four milliseconds into one frame saves a system call per
    message and connection. A connection written to now and then is written at once. (Four,
    not two: in `rest`, 0.15-0.28 frames per delivery instead of 0.39-0.40, and a quarter to a
    third less CPU per delivery, benchmarks/RESULTS.md.)
    """

    __slots__ = ("_coalesce", "_later", "_now")

    def __init__(self, coalesce: float = 0.004) -> None:
        self._coalesce = coalesce
        self._now: list[Flushable] = []
        self._later: list[Flushable] = []

    def add(self, attachment: Flushable) -> None:
        """``attachment.flush()`` soon (it calls this once per flush)."""
        loop = asyncio.get_running_loop()
        due = attachment.flushed_at + self._coalesce
        if loop.time() >= due:
            if not self._now:
                loop.call_soon(self._run, self._now)
            self._now.append(attachment)
        else:
            # One timer for all that wait: those flushed together are due together.
            if not self._later:
                loop.call_at(due, self._run, self._later)
            self._later.append(attachment)

    def _run(self, pending: list[Flushable]) -> None:
        if pending is self._now:
            self._now = []
        else:
            self._later = []
        now = asyncio.get_running_loop().time()
        for attachment in pending:
            attachment.flushed_at = now
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


_FINISHED = Flag()
_FINISHED.set()
"""The flag of every session that finished with nothing waiting for it."""


class Session:
    """One connection: identity, the core, the attachment, and the order of its batches."""

    # One per client: slots keep an idle connection small (benchmarks/RESULTS.md, capacity).
    __slots__ = (
        "_finished", "_turns", "attachment", "claims_header", "closed_seen", "connection_id",
        "connection_token", "core", "hub", "query_header", "refusals", "registered",
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
        self._turns: list[asyncio.Future[None]] | None = None
        """None: no batch of client messages is being handled; else the batches waiting."""
        self.registered = False
        """Handshake done: in the hub state, and its ``disconnected`` event is owed upstream."""
        self._finished: Flag | None = None
        """Made when something first waits for the end, or at the end: most sessions are never
        waited for, and an idle connection does without the object."""
        self.closed_seen: float | None = None
        """When the liveness sweep first saw the core closed (the end of its patience)."""

    # -- one batch of client messages at a time ------------------------------------------------

    async def take_turn(self) -> None:
        """Wait until the batches of this client's messages that came before are handled, so
        upstream calls stay in order; :meth:`end_turn` after. ``asyncio.Lock``'s order, without
        a lock object kept by every idle connection (benchmarks/RESULTS.md, "Memory per
        connection")."""
        turns = self._turns
        if turns is None:
            self._turns = []
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        turns.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.end_turn()  # handed the turn as it was cancelled: pass it on
            elif waiter in turns:
                turns.remove(waiter)
            raise

    def end_turn(self) -> None:
        """The batch is handled: the next waiting one goes on."""
        turns = self._turns
        while turns:
            waiter = turns.pop(0)
            if not waiter.done():
                waiter.set_result(None)
                return
        self._turns = None

    # -- the end -------------------------------------------------------------------------------

    @property
    def is_finished(self) -> bool:
        finished = self._finished
        return finished is not None and finished.is_set()

    def mark_finished(self) -> None:
        if self._finished is None:
            self._finished = _FINISHED
        else:
            self._finished.set()

    async def wait_finished(self) -> None:
        if self._finished is None:
            self._finished = Flag()
        await self._finished.wait()

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
