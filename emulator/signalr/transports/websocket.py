"""The WebSocket transport (docs/client-protocol.md, "Transports").

Feed, flush, write: one task reads the socket and feeds the service; what the connection's core
queues is written by the service's :class:`~..session.Flusher` at the next turn of the loop,
straight to the socket, while the socket takes it. Only when a client does not keep up (the
socket's send buffer is full) does a task of the connection's own write, waiting for the client;
it ends once the queue is empty. An idle connection holds no writer task (benchmarks/RESULTS.md,
"Memory per connection"). JSON goes out in text frames, MessagePack in binary frames; a frame
holds whole records. The core decides pings, timeouts and Acks; the service's liveness sweep
calls it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Coroutine
from typing import Any

from aiohttp import WSMessage, WSMsgType, web

from ..log import preview, transport_log
from ..middlewares import error_response
from ..protocol.connection import CloseReason
from ..service import SignalRService
from ..session import Flusher, Session

__all__ = ["WebSocketAttachment", "handle_websocket"]

_SLACK = 64 * 1024
MAX_FRAME = 64 * 1024
"""Queued records are joined into one frame up to about this many bytes."""


class WebSocketAttachment:
    """The socket a session writes to now; a reattach replaces it with a new one."""

    __slots__ = ("alone", "ended", "flushed_at", "flusher", "flushing", "session", "transport",
                 "writer", "writing_since", "ws")

    def __init__(self, ws: web.WebSocketResponse, session: Session,
                 transport: asyncio.Transport | None, flusher: Flusher, *,
                 handshake: bool) -> None:
        self.ws = ws
        self.session = session
        self.transport = transport
        self.flusher = flusher
        self.writing_since: float | None = None
        self.ended = False
        """Superseded by a reattach or detached: this socket writes no more."""
        self.alone = handshake
        """The next write is the handshake answer: it goes in a frame of its own."""
        self.flushing = False
        """A flush is due at the next turn of the loop."""
        self.flushed_at = -math.inf
        self.writer: asyncio.Task[None] | None = None
        """Writes while the client does not keep up, or closes the socket; None: neither."""

    def wake(self) -> None:
        if not self.flushing and not self.ended:
            self.flushing = True
            self.flusher.add(self)

    def is_gone(self) -> bool:
        return self.transport is None or self.transport.is_closing()

    def abort(self) -> None:
        self.ended = True
        if self.transport is not None:
            self.transport.abort()

    def end(self) -> None:
        self.ended = True

    def flush(self) -> None:
        """Write what the core queued, now; or leave it to the writer task (started here) when
        the client has not read what was sent before. Once the core is closed and all is
        written, the writer closes the socket."""
        self.flushing = False
        if self.ended or self.writer is not None:
            return  # the writer takes what is queued when it is done with the last write
        transport = self.transport
        if transport is not None and (transport.get_write_buffer_size()
                                      >= transport.get_write_buffer_limits()[1]):
            self._start_writer(self._write_slowly(None, []))
            return
        session = self.session
        core = session.core
        items = core.data_to_send(asyncio.get_running_loop().time())
        if items:
            frames = self._frames(items)
            for n, frame in enumerate(frames):
                waiting = _send_now(self.ws, session, frame)
                if isinstance(waiting, bool):
                    if waiting:
                        continue
                    return  # the socket is gone; its reader ends the session
                # Flow control: the rest of these frames, and what comes next, in a task.
                self._start_writer(self._write_slowly(waiting, frames[n + 1:]))
                return
        if core.is_closed and not self.ws.closed:
            self._start_writer(self._close())

    def _frames(self, items: list[bytes]) -> list[bytes]:
        if self.alone:
            self.alone = False
            return [items[0], *_frames(items[1:])]
        return _frames(items)

    def _start_writer(self, work: Coroutine[Any, Any, None]) -> None:
        self.writer = asyncio.ensure_future(work)

    async def _write_slowly(self, waiting: Coroutine[Any, Any, None] | None,
                            frames: list[bytes]) -> None:
        """Write while the client is slow: each write waits until the client has read enough
        (the liveness sweep drops it when that takes the client timeout), until the queue is
        empty. A write whose frame is out but that still waits for the client is ``waiting``;
        ``frames`` were taken from the core and go first."""
        session = self.session
        core = session.core
        loop = asyncio.get_running_loop()
        try:
            if waiting is not None:
                self.writing_since = loop.time()
                try:
                    await waiting
                except (ConnectionError, RuntimeError):
                    return
                finally:
                    self.writing_since = None
            while not self.ended:
                if not frames:
                    items = core.data_to_send(loop.time())
                    if not items:
                        break
                    frames = self._frames(items)
                batch, frames = frames, []
                for frame in batch:
                    self.writing_since = loop.time()
                    sent = await _send(self.ws, session, frame)
                    self.writing_since = None
                    if not sent:
                        return
        finally:
            self.writer = None
        if core.is_closed and not self.ended:
            self._start_writer(self._close())

    async def _close(self) -> None:
        """Everything, the Close message last, is written: close the socket."""
        try:
            if not self.ws.closed:
                with contextlib.suppress(Exception):
                    await self.ws.close()
        finally:
            self.writer = None


async def handle_websocket(
    request: web.Request, service: SignalRService, session: Session, *, reattach: bool = False,
) -> web.StreamResponse:
    """Serve one WebSocket; ``reattach`` resumes a detached stateful session on it.

    The read loop lives in this frame, and each message is handled in a frame of its own: an
    idle connection holds no extra coroutine, nor the last message it sent. Its errors are
    mapped here, so no frame of the client endpoint's lives beside it either
    (benchmarks/RESULTS.md, "Memory per connection")."""
    try:
        # No permessage-deflate, whatever the client offers (browsers and Node's ws always do):
        # ASP.NET Core SignalR, which Microsoft's emulator runs, accepts its WebSockets without
        # it (docs/client-protocol.md, "Transports"). A compressing socket also keeps a zlib
        # state of about 128 KB once it has sent a message, and compresses every broadcast
        # again for each connection.
        ws = web.WebSocketResponse(max_msg_size=service.config.max_message_size + _SLACK,
                                   autoping=True, compress=False)
        await ws.prepare(request)
        attachment = WebSocketAttachment(ws, session, request.transport, service.flusher,
                                         handshake=not reattach)
        if reattach:
            _reattach(service, session, attachment)
        else:
            session.attachment = attachment
        attachment.wake()
        clean = False
        core = session.core
        try:
            while not core.is_closed:
                ended = await _feed(service, session, await ws.receive())
                if ended is not None:
                    clean = ended
                    break
        finally:
            await _wind_up(service, session, attachment, clean=clean)
        return ws
    except Exception as exc:
        return error_response(request, exc)


async def _wind_up(service: SignalRService, session: Session, attachment: WebSocketAttachment,
                   *, clean: bool) -> None:
    """The socket's read loop ended: detach, or write what is left, close, finish."""
    ws = attachment.ws
    core = session.core
    superseded = session.attachment is not attachment
    detached = False
    if not superseded and not core.is_closed:
        detached = service.transport_lost(session, clean=clean)
    if detached or superseded:
        attachment.end()  # no more writes; the buffer (or the new socket) carries on
    else:
        attachment.flush()  # what is left (a Close) goes out, then the socket closes
    writer = attachment.writer
    if writer is not None:
        if not attachment.ended:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(writer), 5.0)  # the Close goes out
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await writer
    attachment.end()
    if not ws.closed:
        with contextlib.suppress(Exception):
            await ws.close()
    if not detached and not superseded:
        await service.finish(session)


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


async def _feed(service: SignalRService, session: Session, message: WSMessage) -> bool | None:
    """Feed one message to the service. None: read on; True: the client closed with a close
    frame; False: the socket ended otherwise, or handling the message failed."""
    if message.type in (WSMsgType.TEXT, WSMsgType.BINARY):
        data = message.data.encode() if message.type == WSMsgType.TEXT else message.data
        try:
            await service.receive(session, data)
        except Exception:
            transport_log.exception("error handling connection %s", session.connection_id)
            session.close(CloseReason.INTERNAL_ERROR)
            return False
        return None
    if message.type == WSMsgType.CLOSE:
        return True  # a close frame: no stateful reattach follows
    # CLOSING, CLOSED, ERROR
    if message.type == WSMsgType.ERROR and session.core.buffer is None:
        session.core.abort(CloseReason.TRANSPORT_ERROR)
    return False


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


def _opcode(session: Session) -> WSMsgType:
    return WSMsgType.BINARY if session.core.binary else WSMsgType.TEXT


def _send_now(ws: web.WebSocketResponse, session: Session, data: bytes
              ) -> Coroutine[Any, Any, None] | bool:
    """One frame, written at once. True: done; False: the socket is gone; a coroutine: the
    frame is out but aiohttp waits for the client to read (flow control), which the caller
    awaits elsewhere. Binary for MessagePack, text for JSON."""
    if transport_log.isEnabledFor(logging.DEBUG):
        transport_log.debug("> %s %s", session.connection_id, preview(data))
    # The bytes go out as they are: a text frame from our own UTF-8 encoding, without the
    # decode and re-encode of send_str (one of each per delivery of a broadcast). send_frame
    # writes the frame before it awaits anything, and awaits only when the client lags.
    sending = ws.send_frame(data, _opcode(session))
    try:
        waiting = sending.send(None)
    except StopIteration:
        return True
    except (ConnectionError, RuntimeError):
        return False
    return _resume(sending, waiting)


async def _resume(coroutine: Coroutine[Any, Any, None], waiting: Any) -> None:
    """Carry on a coroutine that yielded ``waiting`` (a future, or None for one turn) when it
    was stepped by hand, as a task would."""
    while True:
        if waiting is None:
            await asyncio.sleep(0)
        else:
            await asyncio.wait([waiting])
        try:
            waiting = coroutine.send(None)
        except StopIteration:
            return


async def _send(ws: web.WebSocketResponse, session: Session, data: bytes) -> bool:
    """One frame, waiting for the client if it lags. False once the socket is gone."""
    if transport_log.isEnabledFor(logging.DEBUG):
        transport_log.debug("> %s %s", session.connection_id, preview(data))
    try:
        await ws.send_frame(data, _opcode(session))
    except (ConnectionError, RuntimeError):
        return False
    return True
