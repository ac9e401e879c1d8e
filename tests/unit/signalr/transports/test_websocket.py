"""The WebSocket transport's writes, with a stand-in for aiohttp's socket: straight to the
socket while it takes them, in a task of its own while the client lags, nothing lost or
reordered in between."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import WSMsgType

from emulator.signalr import ServiceConfig
from emulator.signalr.protocol.connection import CloseReason
from emulator.signalr.service import SignalRService
from emulator.signalr.session import Flusher
from emulator.signalr.transports.websocket import WebSocketAttachment
from tests.support.timeouts import TIMEOUT

HANDSHAKE = b'{"protocol":"json","version":1}\x1e'


class Transport:
    def __init__(self) -> None:
        self.buffered = 0

    def get_write_buffer_size(self) -> int:
        return self.buffered

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return (16 * 1024, 64 * 1024)

    def is_closing(self) -> bool:
        return False

    def abort(self) -> None:
        pass


class Socket:
    """``send_frame`` records each frame; while ``lagging`` is set it waits after the write, as
    aiohttp does for a client that has not read (flow control)."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.lagging: asyncio.Future[None] | None = None
        self.closed = False

    async def send_frame(self, data: bytes, opcode: Any) -> None:
        assert opcode == WSMsgType.TEXT
        self.frames.append(data)
        if self.lagging is not None:
            await self.lagging

    async def close(self) -> None:
        self.closed = True


def _attached() -> tuple[SignalRService, Any, Socket, Transport, WebSocketAttachment]:
    service = SignalRService(ServiceConfig())
    session = service.open_session(hub="chat", transport="WebSockets", claims={},
                                   client_query="")
    ws, transport = Socket(), Transport()
    attachment = WebSocketAttachment(ws, session, transport, Flusher(),  # type: ignore[arg-type]
                                     handshake=True)
    session.attachment = attachment
    session.core.receive_data(HANDSHAKE, 0.0)
    session.core.events_received()
    return service, session, ws, transport, attachment


async def _settled(attachment: WebSocketAttachment) -> None:
    await asyncio.sleep(0)  # the flusher's turn
    if attachment.writer is not None:
        await asyncio.wait_for(asyncio.shield(attachment.writer), TIMEOUT)


async def test_websocket_writes_at_once_handshake_alone_then_one_frame_per_flush() -> None:
    _, session, ws, _, attachment = _attached()
    session.send_data(b"a\x1e")
    session.send_data(b"b\x1e")
    await _settled(attachment)
    assert ws.frames == [b"{}\x1e", b"a\x1eb\x1e"]
    assert attachment.writer is None  # nothing lags: no task of its own


async def test_websocket_frames_after_a_lagging_write_still_go_out_in_order() -> None:
    _, session, ws, _, attachment = _attached()
    session.core.data_to_send(0.0)  # the handshake answer, out of the way
    attachment.alone = False
    ws.lagging = asyncio.get_running_loop().create_future()
    big = [bytes([65 + n]) * 40_000 + b"\x1e" for n in range(3)]  # three frames' worth
    for item in big:
        session.send_data(item)
    await asyncio.sleep(0)
    assert attachment.writer is not None and len(ws.frames) == 1  # the first write waits
    session.send_data(b"late\x1e")
    ws.lagging.set_result(None)
    ws.lagging = None
    await _settled(attachment)
    assert b"".join(ws.frames) == b"".join([*big, b"late\x1e"])
    assert attachment.writer is None and attachment.writing_since is None


async def test_websocket_full_send_buffer_leaves_the_writes_to_a_task() -> None:
    _, session, ws, transport, attachment = _attached()
    transport.buffered = 64 * 1024  # the client has not read what was sent before
    session.send_data(b"m\x1e")
    await asyncio.sleep(0)
    assert attachment.writer is not None
    await _settled(attachment)
    assert ws.frames == [b"{}\x1e", b"m\x1e"]


async def test_websocket_closed_core_closes_the_socket_after_its_close_message() -> None:
    _, session, ws, _, attachment = _attached()
    session.close(CloseReason.SHUTTING_DOWN)
    await _settled(attachment)
    await _settled(attachment)
    assert ws.frames[-1].startswith(b'{"type":7') and ws.closed
