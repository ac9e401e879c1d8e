"""The WebSocket transport (signalr-protocol.md §3.1).

One task reads the socket and feeds the service; one writer task drains the connection's outbox
and pings after ``keep_alive_interval`` of outbound silence. JSON goes out in text frames,
MessagePack in binary frames; every frame holds whole records.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

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

    def abort() -> None:
        if transport is not None:
            transport.abort()

    connection.abort_transport = abort
    connection.transport_alive = lambda: transport is not None and not transport.is_closing()
    if reattach:
        service.reattach(connection)
    await run_websocket(ws, service, connection)
    return ws


async def run_websocket(
    ws: web.WebSocketResponse, service: SignalRService, connection: ClientConnection
) -> None:
    generation = connection.attach_generation
    writer = asyncio.ensure_future(_write(ws, service, connection))
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
    config = service.config
    deadline = loop.time() + connection.handshake_timeout
    while not connection.outbox.closed:
        handshaking = connection.core.state is State.HANDSHAKE
        timeout = deadline - loop.time() if handshaking else config.client_timeout
        try:
            message = await ws.receive(timeout=max(timeout, 0.001))
        except TimeoutError:
            if handshaking:
                transport_log.warning("connection %s sent no handshake in time",
                                      connection.connection_id)
                connection.close("Handshake was canceled.")
            else:
                transport_log.warning("dropping connection %s: silent for %.0f s",
                                      connection.connection_id, config.client_timeout)
                connection.close("Server timeout elapsed without receiving a message from the "
                                 "client.")
            return
        if message.type in (WSMsgType.TEXT, WSMsgType.BINARY):
            data = message.data.encode() if message.type == WSMsgType.TEXT else message.data
            try:
                await service.receive(connection, data)
            except Exception:
                transport_log.exception("error handling connection %s", connection.connection_id)
                connection.close("Connection closed with an error.")
                return
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
    loop = asyncio.get_running_loop()
    interval = service.config.keep_alive_interval
    last_sent = last_ack = loop.time()
    handshake_answered = False
    while True:
        now = loop.time()
        buffer = connection.buffer
        if buffer is not None and now - last_ack >= ACK_INTERVAL:
            # Stateful reconnect: ack what arrived, on a periodic timer as ASP.NET does.
            last_ack = now
            ack = buffer.ack_due()
            protocol = connection.protocol
            if ack is not None and protocol is not None and connection.is_open:
                if not await _send(ws, connection, protocol.encode(Ack(sequence_id=ack))):
                    break
                last_sent = now
        wait = interval - (now - last_sent)
        if buffer is not None:
            wait = min(wait, ACK_INTERVAL - (now - last_ack))
        try:
            # The handshake answer goes alone; after it, queued messages may share a frame.
            if handshake_answered:
                data = await connection.outbox.get_batch(timeout=max(wait, 0.0))
            else:
                data = await connection.outbox.get(timeout=max(wait, 0.0))
                handshake_answered = data is not None
        except TimeoutError:
            if loop.time() - last_sent < interval or not connection.is_open:
                continue
            data = connection.ping_bytes()
            if data is None:
                continue
        if data is None:
            break
        last_sent = loop.time()
        if not await _send(ws, connection, data):
            break
    if not ws.closed:
        with contextlib.suppress(Exception):
            await ws.close()


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
