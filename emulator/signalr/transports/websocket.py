"""The WebSocket transport (docs/signalr-protocol.md, "Transports").

Feed, flush, write: one task reads the socket and feeds the service; one writer task writes
what the connection's core has queued. JSON goes out in text frames, MessagePack in binary
frames; a frame holds whole records. The core decides pings, timeouts and Acks; the service's
liveness sweep calls it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import WSMsgType, web

from ..log import preview, transport_log
from ..protocol.connection import CloseReason
from ..service import SignalRService
from ..session import Session, Wakeup

__all__ = ["WebSocketAttachment", "handle_websocket"]

_SLACK = 64 * 1024
MAX_FRAME = 64 * 1024
"""Queued records are joined into one frame up to about this many bytes."""


class WebSocketAttachment:
    """The socket a session writes to now; a reattach replaces it with a new one."""

    __slots__ = ("ended", "transport", "wakeup", "writing_since")

    def __init__(self, transport: asyncio.Transport | None) -> None:
        self.transport = transport
        self.wakeup = Wakeup()
        self.writing_since: float | None = None
        self.ended = False
        """Superseded by a reattach or detached: this socket's writer stops."""

    def is_gone(self) -> bool:
        return self.transport is None or self.transport.is_closing()

    def abort(self) -> None:
        self.ended = True
        if self.transport is not None:
            self.transport.abort()

    def end(self) -> None:
        self.ended = True
        self.wakeup.set()


async def handle_websocket(
    request: web.Request, service: SignalRService, session: Session, *, reattach: bool = False,
) -> web.WebSocketResponse:
    """Serve one WebSocket; ``reattach`` resumes a detached stateful session on it."""
    ws = web.WebSocketResponse(max_msg_size=service.config.max_message_size + _SLACK,
                               autoping=True)
    await ws.prepare(request)
    attachment = WebSocketAttachment(request.transport)
    if reattach:
        _reattach(service, session, attachment)
    else:
        session.attachment = attachment
    writer = asyncio.ensure_future(_write(ws, session, attachment, handshake=not reattach))
    clean = False
    try:
        clean = await _read(ws, service, session)
    finally:
        superseded = session.attachment is not attachment
        detached = False
        if not superseded and not session.core.is_closed:
            detached = service.transport_lost(session, clean=clean)
        if detached or superseded:
            attachment.end()  # the writer stops; the buffer (or the new socket) carries on
        else:
            attachment.wakeup.set()  # the writer sends what is left (a Close) and stops
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(writer), 5.0)  # the Close goes out
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await writer
        if not ws.closed:
            with contextlib.suppress(Exception):
                await ws.close()
        if not detached and not superseded:
            await service.finish(session)
    return ws


def _reattach(service: SignalRService, session: Session, attachment: WebSocketAttachment) -> None:
    """Stateful reconnect: Sequence, then the replay, on the new socket."""
    old = session.attachment
    if isinstance(old, WebSocketAttachment):
        old.end()  # its handler sees it was superseded and leaves quietly
        old.abort()
    if session.core.is_open:
        session.core.transport_lost(service.monotonic(), clean=False)
    session.attachment = attachment
    first, replayed = session.core.reattach()
    transport_log.info("connection %s reattached; replaying %d message(s) from %d",
                       session.connection_id, replayed, first)


async def _read(ws: web.WebSocketResponse, service: SignalRService, session: Session) -> bool:
    """Feed every message to the service; True when the client closed with a close frame."""
    core = session.core
    while not core.is_closed:
        message = await ws.receive()
        if message.type in (WSMsgType.TEXT, WSMsgType.BINARY):
            data = message.data.encode() if message.type == WSMsgType.TEXT else message.data
            try:
                await service.receive(session, data)
            except Exception:
                transport_log.exception("error handling connection %s", session.connection_id)
                session.close(CloseReason.INTERNAL_ERROR)
                return False
        elif message.type == WSMsgType.CLOSE:
            return True  # a close frame: no stateful reattach follows
        else:  # CLOSING, CLOSED, ERROR
            if message.type == WSMsgType.ERROR and core.buffer is None:
                core.abort(CloseReason.TRANSPORT_ERROR)
            return False
    return False


async def _write(ws: web.WebSocketResponse, session: Session, attachment: WebSocketAttachment,
                 *, handshake: bool) -> None:
    """Write what the core queues until it is closed, or this socket is replaced."""
    core = session.core
    loop = asyncio.get_running_loop()
    alone = handshake  # the handshake answer goes in a frame of its own
    while not attachment.ended:
        items = core.data_to_send(loop.time())
        if not items:
            if core.is_closed:
                break
            await attachment.wakeup.wait()
            continue
        if alone:
            alone = False
            frames = [items[0], *_frames(items[1:])]
        else:
            frames = _frames(items)
        for frame in frames:
            attachment.writing_since = loop.time()
            sent = await _send(ws, session, frame)
            attachment.writing_since = None
            if not sent:
                return
    if not ws.closed and not attachment.ended:
        with contextlib.suppress(Exception):
            await ws.close()


def _frames(items: list[bytes]) -> list[bytes]:
    """Whole records joined into frames of about ``MAX_FRAME`` bytes."""
    if len(items) <= 1:
        return items
    frames: list[bytes] = []
    batch: list[bytes] = []
    size = 0
    for item in items:
        batch.append(item)
        size += len(item)
        if size >= MAX_FRAME:
            frames.append(b"".join(batch))
            batch, size = [], 0
    if batch:
        frames.append(b"".join(batch))
    return frames


async def _send(ws: web.WebSocketResponse, session: Session, data: bytes) -> bool:
    """One frame: binary for MessagePack, text for JSON. False once the socket is gone."""
    if transport_log.isEnabledFor(logging.DEBUG):
        transport_log.debug("> %s %s", session.connection_id, preview(data))
    try:
        # The bytes go out as they are: a text frame from our own UTF-8 encoding, without the
        # decode and re-encode of send_str (one of each per delivery of a broadcast).
        await ws.send_frame(data, WSMsgType.BINARY if session.core.binary else WSMsgType.TEXT)
    except (ConnectionError, RuntimeError):
        return False
    return True
