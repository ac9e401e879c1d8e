"""The WebSocket transport (signalr-protocol.md §3.1).

One task reads the socket and feeds the service; one writer task drains the connection's outbox.
One keep-alive task per service pings connections after ``keep_alive_interval`` of outbound
silence and closes those silent for ``client_timeout``. JSON goes out in text frames, MessagePack
in binary frames; every frame holds whole records.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import weakref

from aiohttp import WSMsgType, web

from ..connection import ClientConnection
from ..log import preview, transport_log
from ..protocol.connection import State
from ..protocol.messages import Ack
from ..service import SignalRService

__all__ = ["handle_websocket", "run_websocket"]

_SLACK = 64 * 1024
ACK_INTERVAL = 1.0
"""Seconds between Acks while stateful reconnect is on (ASP.NET's periodic ack timer)."""


async def handle_websocket(
    request: web.Request, service: SignalRService, connection: ClientConnection,
    *, reattach: bool = False,
) -> web.WebSocketResponse:
    """Serve one WebSocket; ``reattach`` resumes a detached stateful connection."""
    ws = web.WebSocketResponse(
        max_msg_size=service.config.max_message_size + _SLACK, autoping=True
    )
    await ws.prepare(request)
    transport = request.transport
    if transport is not None:
        # A bound method and a partial rather than two closures: ~0.3 KB less per connection.
        connection.abort_transport = transport.abort
        connection.transport_alive = functools.partial(_alive, transport)
    else:
        connection.abort_transport = None
        connection.transport_alive = _closed
    if reattach:
        service.reattach(connection)
    await run_websocket(ws, service, connection)
    return ws


def _alive(transport: asyncio.BaseTransport) -> bool:
    return not transport.is_closing()


def _closed() -> bool:
    return False


async def run_websocket(
    ws: web.WebSocketResponse, service: SignalRService, connection: ClientConnection
) -> None:
    generation = connection.attach_generation
    keeper = _keep_alive(service)
    writer = asyncio.ensure_future(_write(ws, service, connection))
    keeper.add(connection)
    connection.writer_task = writer
    task = asyncio.current_task()
    if task is not None:
        service.connection_tasks.add(task)
    detach = superseded = False
    try:
        await _read(ws, service, connection)
        # A reattach may have happened while this reader was busy (say, in an upstream call):
        # then the connection belongs to the new socket and this handler just leaves.
        superseded = connection.attach_generation != generation
        if not superseded:
            connection.flush()
            detach = (connection.buffer is not None and connection.core.state is State.OPEN
                      and not connection.outbox.closed and not connection.clean_close
                      and not service.shutting_down)
        if not detach and not superseded:
            connection.outbox.close()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(writer), 5.0)
    finally:
        keeper.connections.discard(connection)
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await writer
        if not ws.closed:
            with contextlib.suppress(Exception):
                await ws.close()
        if task is not None:
            service.connection_tasks.discard(task)
        if superseded or connection.attach_generation != generation:
            pass
        elif detach:
            service.detach(connection)
        else:
            await service.finish(connection)


async def _read(ws: web.WebSocketResponse, service: SignalRService,
                connection: ClientConnection) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + connection.handshake_timeout
    while not connection.outbox.closed:
        try:
            if connection.core.state is State.HANDSHAKE:
                message = await ws.receive(timeout=max(deadline - loop.time(), 0.001))
            else:
                # No timer per read: the keep-alive task enforces client_timeout from
                # last_activity (a Timeout per receive cost an idle connection 0.3 KB and
                # every message a timer; benchmarks/RESULTS.md).
                message = await ws.receive()
        except TimeoutError:
            transport_log.warning("connection %s sent no handshake in time",
                                  connection.connection_id)
            connection.close("Handshake was canceled.")
            return
        if message.type in (WSMsgType.TEXT, WSMsgType.BINARY):
            data = message.data.encode() if message.type == WSMsgType.TEXT else message.data
            # Not silent while its messages are handled (an upstream call may take longer
            # than client_timeout): the clock starts again once this reader waits again.
            connection.last_activity = math.inf
            try:
                await service.receive(connection, data)
            except Exception:
                transport_log.exception("error handling connection %s", connection.connection_id)
                connection.close("Connection closed with an error.")
                return
            finally:
                connection.last_activity = loop.time()
        else:  # CLOSE, CLOSING, CLOSED, ERROR
            if message.type == WSMsgType.CLOSE:
                connection.clean_close = True  # a close frame: no stateful reattach expected
            if message.type == WSMsgType.ERROR:
                connection.close_error = connection.close_error or "WebSocket error."
            return
        if connection.core.state is State.CLOSED:
            return


async def _write(ws: web.WebSocketResponse, service: SignalRService,
                 connection: ClientConnection) -> None:
    """Drain the outbox into frames. Pings and the client timeout are the keep-alive task's
    (below); only a stateful connection's writer keeps a timer, for its periodic Acks."""
    loop = asyncio.get_running_loop()
    connection.last_sent = last_ack = loop.time()
    connection.last_activity = max(connection.last_activity, last_ack)
    handshake_answered = False
    while True:
        timeout: float | None = None
        buffer = connection.buffer
        if buffer is not None:
            now = loop.time()
            if now - last_ack >= ACK_INTERVAL:
                # Stateful reconnect: ack what arrived, on a periodic timer as ASP.NET does.
                last_ack = now
                ack = buffer.ack_due()
                protocol = connection.protocol
                if ack is not None and protocol is not None and connection.is_open:
                    if not await _send(ws, connection, protocol.encode(Ack(sequence_id=ack))):
                        break
                    connection.last_sent = now
            timeout = max(ACK_INTERVAL - (now - last_ack), 0.0)
        try:
            # The handshake answer goes alone; after it, queued messages may share a frame.
            if handshake_answered:
                data = await connection.outbox.get_batch(timeout=timeout)
            else:
                data = await connection.outbox.get(timeout=timeout)
                handshake_answered = data is not None
        except TimeoutError:
            continue
        if data is None:
            break
        connection.last_sent = loop.time()
        if not await _send(ws, connection, data):
            break
    if not ws.closed:
        with contextlib.suppress(Exception):
            await ws.close()


class _KeepAlive:
    """One task per service, not a timer per connection: every WebSocket connection idle for
    ``keep_alive_interval`` gets a Ping, and one silent for ``client_timeout`` is closed.

    A timer per connection cost every idle client memory and every delivery a timer set and
    cancelled (benchmarks/RESULTS.md); a sweep over the open connections costs microseconds.
    """

    def __init__(self, service: SignalRService) -> None:
        self.service = service
        self.connections: set[ClientConnection] = set()
        self.task: asyncio.Task[None] | None = None

    def add(self, connection: ClientConnection) -> None:
        self.connections.add(connection)
        if self.task is None or self.task.done():
            self.task = asyncio.ensure_future(self._run())
            self.service.connection_tasks.add(self.task)
            self.task.add_done_callback(self.service.connection_tasks.discard)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        config = self.service.config
        period = max(0.005, min(1.0, config.keep_alive_interval / 4, config.client_timeout / 4))
        while self.connections:
            await asyncio.sleep(period)
            now = loop.time()
            for connection in list(self.connections):
                if connection.detached or not connection.is_open:
                    continue
                if now - connection.last_activity >= config.client_timeout:
                    transport_log.warning("dropping connection %s: silent for %.0f s",
                                          connection.connection_id, config.client_timeout)
                    connection.close("Server timeout elapsed without receiving a message from "
                                     "the client.")
                elif now - connection.last_sent >= config.keep_alive_interval:
                    ping = connection.ping_bytes()
                    connection.last_sent = now  # one Ping per interval, even before it is sent
                    if ping is not None:
                        connection.push(ping)


_KEEP_ALIVE: weakref.WeakKeyDictionary[SignalRService, _KeepAlive] = weakref.WeakKeyDictionary()


def _keep_alive(service: SignalRService) -> _KeepAlive:
    keeper = _KEEP_ALIVE.get(service)
    if keeper is None:
        keeper = _KEEP_ALIVE[service] = _KeepAlive(service)
    return keeper


async def _send(ws: web.WebSocketResponse, connection: ClientConnection, data: bytes) -> bool:
    """One frame: binary for MessagePack, text for JSON. False once the socket is gone."""
    if transport_log.isEnabledFor(logging.DEBUG):
        transport_log.debug("> %s %s", connection.connection_id, preview(data))
    try:
        # The bytes go out as they are: a text frame from our own UTF-8 encoding, without the
        # decode and re-encode of send_str (one of each per delivery of a broadcast).
        await ws.send_frame(data, WSMsgType.BINARY if connection.binary else WSMsgType.TEXT)
    except (ConnectionError, RuntimeError):
        return False
    return True
