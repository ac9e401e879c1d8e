"""The service itself: negotiate entries, live connections, upstream dispatch and sends.

Transports call :meth:`SignalRService.receive` with what a client sent; the REST API calls the
``send_*`` methods. Everything here runs on one event loop; hub bookkeeping is in ``hub.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .config import ServiceConfig
from .connection import ClientConnection
from .hub import HubState
from .log import log, preview, transport_log, upstream_log, warn_once
from .protocol.codec import HubProtocol
from .protocol.connection import ConnectionFailed, HandshakeCompleted, HubConnection
from .protocol.errors import Conflict, NotFound, ProtocolError, UpstreamError
from .protocol.handshake import PROTOCOLS
from .protocol.messages import Ack, HubMessage, Invocation, Sequence, StreamInvocation
from .protocol.stateful import MessageBuffer, is_tracked
from .protocol.tokens import user_id_from_claims
from .protocol.upstream import (
    CONNECTIONS,
    MESSAGES,
    build_upstream_headers,
    completion_for_failure,
    completion_for_response,
    connected_body,
    disconnected_body,
    expand_url,
    find_template,
    invocation_body,
)
from .upstream_client import UpstreamClient

__all__ = ["PendingConnection", "SignalRService", "handshake_timeout"]


@dataclass(frozen=True, kw_only=True)
class PendingConnection:
    """A negotiate answer waiting for its connect."""

    connection_id: str
    connection_token: str
    hub: str
    created: float
    stateful: bool = False


MAX_HANDSHAKE_TIMEOUT = 30.0


def handshake_timeout(claims: Mapping[str, Any], default: float) -> float:
    """``asrs.s.cht`` (seconds, at most 30) overrides the default (signalr-service.md §3.2)."""
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
        new_id: Callable[[], str] | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.new_id = new_id or (lambda: secrets.token_urlsafe(16))
        self.state: HubState[ClientConnection] = HubState()
        self.pending: dict[str, PendingConnection] = {}
        self.active_tokens: dict[str, ClientConnection] = {}
        self.upstream = UpstreamClient(timeout=config.upstream_timeout)
        self.connection_tasks: set[asyncio.Task[Any]] = set()
        self.disconnects: set[asyncio.Future[None]] = set()
        """One future per ``disconnected`` upstream call in flight; shutdown waits for them."""
        self.shutting_down = False

    # -- negotiate and connect ----------------------------------------------------------------

    def negotiate(self, hub: str, *, version: int, stateful: bool = False) -> PendingConnection:
        now = self.clock()
        self._expire_pending(now)
        connection_id = self.new_id()
        token = self.new_id() + self.new_id() if version >= 1 else connection_id
        entry = PendingConnection(connection_id=connection_id, connection_token=token, hub=hub,
                                  created=now, stateful=stateful)
        self.pending[token] = entry
        return entry

    def claim(self, token: str, hub: str) -> PendingConnection:
        """The negotiate entry for ``id=token``: 409 if in use, 404 if unknown or expired."""
        if token in self.active_tokens:
            raise Conflict("a transport is already attached to this connection")
        entry = self.pending.pop(token, None)
        if entry is None or self.clock() - entry.created > self.config.negotiate_ttl:
            raise NotFound("no connection with this id (unknown, expired or closed)")
        if entry.hub.lower() != hub.lower():
            raise NotFound("no connection with this id in this hub")
        return entry

    def _expire_pending(self, now: float) -> None:
        ttl = self.config.negotiate_ttl
        for token in [t for t, e in self.pending.items() if now - e.created > ttl]:
            del self.pending[token]

    def open_connection(
        self,
        *,
        hub: str,
        transport: str,
        claims: Mapping[str, Any],
        client_query: str,
        pending: PendingConnection | None = None,
        transfer_formats: Iterable[str] = ("Text", "Binary"),
    ) -> ClientConnection:
        connection_id = pending.connection_id if pending else self.new_id()
        token = pending.connection_token if pending else connection_id
        core = HubConnection(protocols=PROTOCOLS, transfer_formats=transfer_formats,
                             max_message_size=self.config.max_message_size)
        connection = ClientConnection(
            connection_id=connection_id, connection_token=token, hub=hub, transport=transport,
            claims=claims, user_id=user_id_from_claims(claims), client_query=client_query,
            core=core, queue_size=self.config.send_queue_size,
        )
        connection.stateful_requested = bool(pending and pending.stateful)
        connection.handshake_timeout = handshake_timeout(claims, self.config.handshake_timeout)
        self.active_tokens[token] = connection
        return connection

    # -- receiving ----------------------------------------------------------------------------

    async def receive(self, connection: ClientConnection, data: bytes) -> None:
        """Feed client bytes; handle each event in order (upstream calls are awaited)."""
        if transport_log.isEnabledFor(logging.DEBUG):
            transport_log.debug("< %s %s", connection.connection_id, preview(data))
        async with connection.lock:
            connection.core.receive_data(data)
            for event in connection.core.events_received():
                connection.flush()
                buffer = connection.buffer
                if buffer is not None:
                    if is_tracked(event) and not buffer.accept_incoming():
                        continue  # a duplicate replayed after a reattach
                    if isinstance(event, Ack):
                        buffer.ack(event.sequence_id)
                    elif isinstance(event, Sequence):
                        try:
                            buffer.rewind_incoming(event.sequence_id)
                        except ProtocolError as exc:
                            connection.close(str(exc))
                            break
                await self._handle_event(connection, event)
            connection.flush()

    async def _handle_event(self, connection: ClientConnection, event: Any) -> None:
        if isinstance(event, HandshakeCompleted):
            await self._on_connected(connection, event)
        elif isinstance(event, ConnectionFailed):
            transport_log.warning("closing connection %s: %s", connection.connection_id,
                                  event.error)
            connection.close_error = event.error
        elif isinstance(event, Invocation):
            await self._forward_invocation(connection, event)
        elif isinstance(event, StreamInvocation):
            # Streaming is not available in serverless mode (signalr-service.md §5.4); answer so
            # that the caller's stream ends instead of hanging.
            protocol = connection.protocol
            assert protocol is not None
            connection.push_tracked(completion_for_failure(
                event.invocation_id, "stream invocations are not supported in serverless mode.",
                protocol))
        # Ping resets the client timeout (the transport saw traffic); Close moved the core to
        # CLOSED; StreamItem, Completion, CancelInvocation, Ack and Sequence are ignored.

    async def _on_connected(self, connection: ClientConnection, event: HandshakeCompleted) -> None:
        connection.flush()
        if (connection.stateful_requested and connection.transport == "WebSockets"
                and event.version >= 2):
            # signalr-protocol.md §7.1: buffering only with a version 2 handshake on WebSockets.
            connection.buffer = MessageBuffer(self.config.send_queue_size)
        self.state.add_connection(connection.hub, connection, now=self.clock())
        connection.registered = True
        log.info("connection %s opened on hub %s (%s, %s v%d, user %s)",
                 connection.connection_id, connection.hub, connection.transport,
                 event.protocol, event.version, connection.user_id or "-")
        # A notification: failures are logged, never fatal (EM only logs, signalr-service.md §5.8).
        with contextlib.suppress(UpstreamError):
            await self._call_upstream(connection, CONNECTIONS, "connected", connected_body(),
                                      "application/json")

    async def _forward_invocation(self, connection: ClientConnection, message: Invocation) -> None:
        protocol = connection.protocol
        assert protocol is not None
        invocation_id = message.invocation_id
        body = invocation_body(message, protocol)
        try:
            result = await self._call_upstream(connection, MESSAGES, message.target, body,
                                               protocol.content_type)
        except UpstreamError as exc:
            if invocation_id is not None:
                connection.push_tracked(
                    completion_for_failure(invocation_id, f"error: {exc}.", protocol))
            return
        if invocation_id is None:
            return
        if result is None:
            connection.push_tracked(completion_for_failure(
                invocation_id, "no upstream is configured for this event.", protocol))
            return
        status, payload = result
        data = completion_for_response(invocation_id, status, payload, protocol)
        count = len(protocol.decode(data)) if connection.buffer is not None else 1
        connection.push_tracked(data, count)

    async def _call_upstream(
        self, connection: ClientConnection, category: str, event: str, body: bytes,
        content_type: str,
    ) -> tuple[int, bytes] | None:
        """POST to the first matching template; None when none matches. Raises UpstreamError."""
        template = find_template(self.config.upstream, connection.hub, category, event)
        if template is None:
            upstream_log.info("no upstream template matches hub %s, %s %s; not sent",
                              connection.hub, category, event)
            return None
        url = expand_url(template.url_template, connection.hub, category, event)
        headers = build_upstream_headers(
            connection_id=connection.connection_id, hub=connection.hub, category=category,
            event=event, keys=self.config.access_keys, content_type=content_type,
            user_id=connection.user_id, claims_header=connection.claims_header,
            client_query=connection.client_query,
        )
        return await self.upstream.post(url, body, headers)

    # -- ending -------------------------------------------------------------------------------

    async def finish(self, connection: ClientConnection) -> None:
        """The transport has ended: notify upstream, then forget the connection."""
        if connection.finished.is_set():
            return
        connection.finished.set()
        grace = connection.grace_task
        if grace is not None and grace is not asyncio.current_task():
            grace.cancel()
        self.active_tokens.pop(connection.connection_token, None)
        connection.outbox.close()
        if not connection.registered:
            return
        error = connection.close_error
        log.info("connection %s closed on hub %s%s", connection.connection_id, connection.hub,
                 f" ({error})" if error else "")
        notified = asyncio.get_running_loop().create_future()
        self.disconnects.add(notified)
        try:
            await self._call_upstream(connection, CONNECTIONS, "disconnected",
                                      disconnected_body(error), "application/json")
        except UpstreamError:
            pass
        finally:
            self.state.remove_connection(connection.hub, connection.connection_id)
            self.disconnects.discard(notified)
            notified.set_result(None)

    async def shutdown(self, timeout: float = 5.0) -> None:
        """Close every client with a Close message and wait (bounded) for transports to end."""
        self.shutting_down = True
        connections = list(self.active_tokens.values())
        for connection in connections:
            connection.close("Service is shutting down.", allow_reconnect=True)
        # A long-polling client collects its Close with the pending poll (if any); no later
        # poll is waited for.
        await asyncio.gather(*(self.finish(c) for c in connections
                               if c.transport == "LongPolling" or c.detached))
        waits = [asyncio.ensure_future(c.finished.wait()) for c in connections]
        if waits:
            _, pending = await asyncio.wait(waits, timeout=timeout)
            for task in pending:
                task.cancel()
        for connection in connections:
            if not connection.finished.is_set():
                connection.abort("Service is shutting down.")
        if self.disconnects:  # the disconnected events still on their way upstream
            await asyncio.wait(list(self.disconnects), timeout=timeout)
        for task in list(self.connection_tasks):
            task.cancel()
        self.pending.clear()

    # -- sending (REST) -----------------------------------------------------------------------

    def send(self, connections: Iterable[ClientConnection], message: HubMessage,
             encoded: Mapping[str, bytes] | None = None) -> int:
        """Queue ``message`` for each open connection, encoded once per protocol.

        ``encoded`` holds framings supplied ready-made (by protocol name); they are used as is.
        """
        encoded = dict(encoded or {})
        count = 0
        for connection in connections:
            protocol: HubProtocol | None = connection.protocol
            if protocol is None or not connection.is_open:
                continue
            data = encoded.get(protocol.name)
            if data is None:
                try:
                    data = protocol.encode(message)
                except (TypeError, ValueError, OverflowError) as exc:
                    # e.g. bytes from a MessagePack REST body have no JSON form.
                    warn_once(log, f"encode:{protocol.name}",
                              "cannot encode a message for %s clients (%s); not sent to them",
                              protocol.name, type(exc).__name__)
                    data = b""
                encoded[protocol.name] = data
            if not data:
                continue
            if connection.push_tracked(data):
                count += 1
        return count

    # -- stateful reconnect -------------------------------------------------------------------

    def detach(self, connection: ClientConnection) -> None:
        """The WebSocket dropped uncleanly: keep everything for ``reconnect_grace`` seconds."""
        connection.detached = True
        connection.outbox.drain()
        log.info("connection %s lost its transport; waiting %.0f s for a reattach",
                 connection.connection_id, self.config.reconnect_grace)

        async def expire() -> None:
            await asyncio.sleep(self.config.reconnect_grace)
            connection.close_error = connection.close_error or "The client did not reconnect."
            connection.outbox.close()
            await self.finish(connection)

        connection.grace_task = asyncio.ensure_future(expire())
        self.connection_tasks.add(connection.grace_task)
        connection.grace_task.add_done_callback(self.connection_tasks.discard)

    def reattach(self, connection: ClientConnection) -> None:
        """A new WebSocket for a detached connection: Sequence, then replay (§7.3)."""
        if connection.grace_task is not None:
            connection.grace_task.cancel()
            connection.grace_task = None
        connection.attach_generation += 1
        if connection.writer_task is not None:
            connection.writer_task.cancel()  # the old socket's writer must not take messages
            connection.writer_task = None
        connection.detached = False
        connection.outbox.drain()
        buffer, protocol = connection.buffer, connection.protocol
        assert buffer is not None and protocol is not None
        first, items = buffer.replay()
        connection.push(protocol.encode(Sequence(sequence_id=first)))
        for data in items:
            connection.push(data)
        log.info("connection %s reattached; replaying %d message(s) from %d",
                 connection.connection_id, len(items), first)
