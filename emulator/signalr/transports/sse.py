"""Server-Sent Events (signalr-protocol.md §3.2): text only; sends come as POSTs.

The response starts with ``:\\r\\n`` at once (Firefox fires ``open`` only then). Each outgoing
item becomes one unnamed event: ``data: <line>\\r\\n`` per line, then a blank line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web

from ..connection import ClientConnection
from ..log import preview, transport_log
from ..service import SignalRService
from .http_common import watch_liveness

__all__ = ["format_event", "handle_sse"]


def format_event(data: bytes) -> bytes:
    lines = data.split(b"\n")
    out = bytearray()
    for line in lines:
        if line.endswith(b"\r"):
            line = line[:-1]
        out += b"data: " + line + b"\r\n"
    out += b"\r\n"
    return bytes(out)


async def handle_sse(request: web.Request, service: SignalRService,
                     connection: ClientConnection) -> web.StreamResponse:
    response = web.StreamResponse(headers={
        "Content-Type": "text/event-stream",
        "Cache-Control": "no-cache, no-store",
        "Pragma": "no-cache",
        "Content-Encoding": "identity",
    })
    loop = asyncio.get_running_loop()
    connection.last_activity = loop.time()

    def transport_gone() -> bool:
        transport = request.transport
        return transport is None or transport.is_closing()

    watchdog = asyncio.ensure_future(watch_liveness(
        service, connection, inherent_keep_alive=False, transport_gone=transport_gone))
    task = asyncio.current_task()
    if task is not None:
        service.connection_tasks.add(task)
    try:
        await response.prepare(request)
        await response.write(b":\r\n")
        interval = service.config.keep_alive_interval
        while True:
            try:
                data = await connection.outbox.get(timeout=interval)
            except TimeoutError:
                data = connection.ping_bytes() if connection.is_open else None
                if data is None:
                    continue
            if data is None:
                break
            if transport_log.isEnabledFor(logging.DEBUG):
                transport_log.debug("> %s %s", connection.connection_id, preview(data))
            await response.write(format_event(data))
    except (ConnectionError, RuntimeError):
        connection.close_error = connection.close_error or "The client went away."
    finally:
        watchdog.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await watchdog
        if task is not None:
            service.connection_tasks.discard(task)
        await service.finish(connection)
    with contextlib.suppress(ConnectionError, RuntimeError):
        await response.write_eof()
    return response
