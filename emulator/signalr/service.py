"""The service: sessions in, events out. It ties the registry (negotiate, claim, attach), the hub
state (who is where), the dispatcher (upstream) and the liveness sweep together.

Transports call :meth:`SignalRService.receive` with what a client sent and
:meth:`SignalRService.finish` when they end; the REST API sends with :func:`sender.fan_out`.
Everything runs on one event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import sys
import time
from collections.abc import Callable, Coroutine, Iterable, Mapping
from typing import Any

from ..contracts.messages import Invocation, StreamInvocation
from ..contracts.protocols import PROTOCOLS
from ..contracts.tokens import VerifiedTokens, user_id_from_claims
from ..contracts.upstream import format_claims
from .config import ServiceConfig
from .dispatcher import Dispatcher
from .hub import HubState
from .log import OnceLog, log, preview, printable, transport_log
from .protocol.connection import (
    CloseReason,
    ConnectionFailed,
    Event,
    HandshakeCompleted,
    HubConnection,
)
from .protocol.upstream import client_query_header, completion_for_failure
from .registry import PendingConnection, Registry
from .session import Flusher, Session

__all__ = ["MAX_HANDSHAKE_TIMEOUT", "SignalRService", "handshake_timeout"]

MAX_HANDSHAKE_TIMEOUT = 30.0
SHUTDOWN_TIMEOUT = 5.0
"""Seconds shutdown waits for transports to end and for ``disconnected`` calls."""


def handshake_timeout(claims: Mapping[str, Any], default: float) -> float:
    """``asrs.s.cht`` (seconds, at most 30) overrides the default.

    docs/serverless-contracts.md, "Client tokens".
    """
    value = claims.get("asrs.s.cht")
    try:
        seconds = float(value) if value is not None else None
    except (TypeError, ValueError):
        seconds = None
    if seconds is None or not seconds > 0:
        return default
    return min(seconds, MAX_HANDSHAKE_TIMEOUT)


class SignalRService:
    def __init__(
        self,
        config: ServiceConfig,
        *,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        new_id: Callable[[], str] | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        """Wall-clock seconds: token lifetimes, negotiate expiry, user-group TTLs."""
        self.monotonic = monotonic
        """Seconds for the connection timers (the event loop's clock by default)."""
        self.registry = Registry(negotiate_ttl=config.negotiate_ttl,
                                 new_id=new_id or (lambda: secrets.token_urlsafe(16)))
        self.state: HubState[Session] = HubState()
        self.dispatcher = Dispatcher(config)
        self.refusals = OnceLog()
        self.flusher = Flusher()
        """Writes WebSocket connections once per turn of the loop (transports/websocket.py)."""
        self.rest_tokens = VerifiedTokens(256)
        """Signatures of REST tokens already checked: a caller (the output binding) brings the
        same token on every call. Client tokens are checked each time (one per connection:
        caching them would cost memory per connection)."""
        self.stopping = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._sweeper: asyncio.Task[None] | None = None

    # -- negotiate and connect ----------------------------------------------------------------

    def negotiate(self, hub: str, *, version: int, stateful: bool = False,
                  user_id: str | None = None) -> PendingConnection:
        return self.registry.negotiate(hub, version=version, stateful=stateful, user_id=user_id,
                                       now=self.clock())

    def claim(self, token: str, hub: str,
              claims: Mapping[str, Any] | None = None) -> PendingConnection:
        """The negotiate entry for a connect; the connect's token must be the same user's."""
        return self.registry.claim(token, hub, self.clock(),
                                   user_id=user_id_from_claims(claims or {}))

    def open_session(
        self,
        *,
        hub: str,
        transport: str,
        claims: Mapping[str, Any],
        client_query: str,
        pending: PendingConnection | None = None,
        transfer_formats: Iterable[str] = ("Text", "Binary"),
    ) -> Session:
        """A new session in the handshake state; registered by its token."""
        connection_id = pending.connection_id if pending else self.registry.new_id()
        limits = self.config.limits
        cht = handshake_timeout(claims, limits.handshake_timeout)
        if cht != limits.handshake_timeout:
            limits = self.config.limits_with(handshake_timeout=cht)
        core = HubConnection(
            now=self.monotonic(), limits=limits, protocols=PROTOCOLS,
            transfer_formats=transfer_formats,
            # Buffering is for WebSockets only (docs/client-protocol.md, "Stateful reconnect").
            stateful_requested=bool(pending and pending.stateful) and transport == "WebSockets",
            sends_pings=transport != "LongPolling",
        )
        session = Session(
            connection_id=connection_id,
            connection_token=pending.connection_token if pending else connection_id,
            # One string for every client of a hub, not one parsed from each URL.
            hub=sys.intern(hub), transport=transport, user_id=user_id_from_claims(claims),
            claims_header=format_claims(claims) if claims else "",
            # One string for every client with the same query (most clients of a hub).
            query_header=sys.intern(client_query_header(client_query)), core=core,
            refusals=self.refusals,
        )
        self.registry.add(session)
        self._start_sweeper()
        return session

    # -- receiving ----------------------------------------------------------------------------

    async def receive(self, session: Session, data: bytes) -> None:
        """Feed client bytes; handle each event in order (upstream calls are awaited)."""
        if transport_log.isEnabledFor(logging.DEBUG):
            transport_log.debug("< %s %s", session.connection_id, preview(data))
        core = session.core
        await session.take_turn()
        # The client is not silent while its messages are handled: an upstream call may take
        # longer than the client timeout, and its pings wait until we read again.
        core.hold()
        try:
            core.receive_data(data, self.monotonic())
            for event in core.events_received():
                session.wake()  # the handshake answer goes out before the upstream call
                await self._handle(session, event)
        finally:
            core.release(self.monotonic())
            session.wake()
            session.end_turn()

    async def _handle(self, session: Session, event: Event) -> None:
        if isinstance(event, HandshakeCompleted):
            self.state.add_connection(session.hub, session, now=self.clock())
            session.registered = True
            log.info("connection %s opened on hub %s (%s, %s v%d%s, user %s)",
                     session.connection_id, session.hub, session.transport, event.protocol,
                     event.version, ", stateful" if event.stateful else "",
                     printable(session.user_id or "-"))
            await self.dispatcher.connected(session)
        elif isinstance(event, ConnectionFailed):
            self.refusals.warning(transport_log, f"protocol:{type(event.error).__name__}",
                                  "closing connection %s: %s", session.connection_id,
                                  printable(event.error))
        elif isinstance(event, Invocation):
            await self.dispatcher.invocation(session, event)
        elif isinstance(event, StreamInvocation):
            # Streaming is not available in serverless mode; answer so that the caller's
            # stream ends instead of hanging.
            protocol = session.core.protocol
            assert protocol is not None
            session.send_data(completion_for_failure(
                event.invocation_id, "stream invocations are not supported in serverless mode.",
                protocol))
        # A Close moved the core to CLOSED; StreamItem, Completion and CancelInvocation mean
        # nothing in serverless mode and are ignored.

    # -- ending -------------------------------------------------------------------------------

    async def finish(self, session: Session) -> None:
        """The session is over: forget it, then send ``disconnected`` upstream."""
        if session.is_finished:
            return
        session.mark_finished()
        core = session.core
        core.abort(CloseReason.CLIENT_GONE)  # no-op when it is closed already
        self.registry.discard(session)
        session.wake()  # a writer still waiting sees the end
        session.attachment = None
        if not session.registered:
            return
        error = core.error
        log.info("connection %s closed on hub %s%s", session.connection_id, session.hub,
                 f" ({printable(error)})" if error else "")
        try:
            await self.dispatcher.disconnected(session, error)
        finally:
            self.state.remove_connection(session.hub, session.connection_id)

    def finish_soon(self, session: Session) -> None:
        self._spawn(self.finish(session))

    def transport_lost(self, session: Session, *, clean: bool) -> bool:
        """A transport ended; True when the session detached and waits for a reattach."""
        core = session.core
        core.transport_lost(self.monotonic(), clean=clean or self.stopping)
        session.attachment = None
        if core.is_closed:
            return False
        log.info("connection %s lost its transport; waiting %.0f s for a reattach",
                 session.connection_id, core.limits.reconnect_grace)
        return True

    async def close_all(self, timeout: float = SHUTDOWN_TIMEOUT) -> None:
        """Stop taking clients, send every client a Close (reconnect allowed) and wait, bounded,
        for their transports to end. Their ``disconnected`` calls go upstream meanwhile."""
        self.stopping = True
        sessions = self.registry.sessions()
        for session in sessions:
            session.close(CloseReason.SHUTTING_DOWN, allow_reconnect=True)
        # Long polling collects its Close with the pending poll, if any; no later poll is
        # waited for. A detached session has no transport to wait for.
        for session in sessions:
            if session.transport == "LongPolling" or session.attachment is None:
                self.finish_soon(session)
        waits = [asyncio.ensure_future(s.wait_finished()) for s in sessions]
        if waits:
            _, late = await asyncio.wait(waits, timeout=timeout)
            for task in late:
                task.cancel()
        for session in sessions:
            if not session.is_finished:
                self.finish_soon(session)  # its transport did not end in time
        self.registry.clear_pending()

    async def stop(self, timeout: float = SHUTDOWN_TIMEOUT) -> None:
        """After :meth:`close_all`: wait for the ``disconnected`` calls, end every task."""
        await asyncio.sleep(0)  # let the last finish() calls start their upstream requests
        await self.dispatcher.wait_disconnects(timeout)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # -- the liveness sweep -------------------------------------------------------------------

    def _start_sweeper(self) -> None:
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = self._spawn(self._sweep())

    async def _sweep(self) -> None:
        """One task for every timer of every session, not a timer per connection: each tick is
        a few attribute reads per session, while a timer each cost every idle client memory
        and every delivery a timer set and cancelled (benchmarks/RESULTS.md)."""
        limits = self.config.limits
        period = max(0.005, min(1.0, limits.keep_alive_interval / 4, limits.client_timeout / 4,
                                limits.handshake_timeout / 4, limits.ack_interval,
                                limits.reconnect_grace / 4))
        while len(self.registry):
            await asyncio.sleep(period)
            now = self.monotonic()
            for session in self.registry.sessions():
                self._tick(session, now)

    def _tick(self, session: Session, now: float) -> None:
        core = session.core
        attachment = session.attachment
        if (attachment is not None and attachment.writing_since is not None
                and now - attachment.writing_since >= core.limits.client_timeout):
            # The client has not read what was sent for the whole client timeout.
            self.refusals.warning(transport_log, "write-timeout",
                                  "dropping connection %s: it has not read for %.0f s",
                                  session.connection_id, core.limits.client_timeout)
            core.abort(CloseReason.SLOW_CLIENT)
            session.abort_transport()
        if attachment is not None and not core.is_closed and attachment.is_gone():
            core.transport_lost(now, clean=False)
            if not core.is_closed:
                session.attachment = None  # detached: the handler leaves, the buffer waits
            attachment.wake()
        core.tick(now)
        if core.pending or core.is_closed:
            session.wake()
        if core.is_closed:
            # A transport that is still attached ends the session itself once it has written
            # the Close; give it the client timeout to do so.
            if session.closed_seen is None:
                session.closed_seen = now
            if session.attachment is None:
                self.finish_soon(session)
            elif now - session.closed_seen >= core.limits.client_timeout:
                session.abort_transport()  # its transport never finished: release the socket
                self.finish_soon(session)

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task
