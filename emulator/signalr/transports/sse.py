"""Server-Sent Events (docs/client-protocol.md, "Transports"): text only; sends come as POSTs.

The response starts with ``:\\r\\n`` at once (Firefox fires ``open`` only then). Each queued
item becomes one unnamed event: ``data: <line>\\r\\n`` per line, then a blank line.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from ..log import preview, transport_log
from ..protocol.connection import CloseReason
from ..service import SignalRService
from ..session import Session
from .http_common import HttpAttachment

__all__ = ["format_event", "handle_sse"]


def format_event(data: bytes) -> bytes:
    out = bytearray()
    for line in data.split(b"\n"):
        if line.endswith(b"\r"):
            line = line[:-1]
        out += b"data: " + line + b"\r\n"
    out += b"\r\n"
    return bytes(out)


async def handle_sse(request: web.Request, service: SignalRService,
                     session: Session) -> web.StreamResponse:
    response = web.StreamResponse(headers={
        "Content-Type": "text/event-stream",
        "Cache-Control": "no-cache, no-store",
        "Pragma": "no-cache",
        "Content-Encoding": "identity",
    })
    response.force_close()  # an event stream is one long answer: its socket is not reused
    attachment = HttpAttachment(request.transport)
    session.attachment = attachment
    core = session.core
    loop = asyncio.get_running_loop()
    try:
        await response.prepare(request)
        await response.write(b":\r\n")
        while True:
            items = core.data_to_send(loop.time())
            if not items:
                if core.is_closed:
                    break
                await attachment.wakeup.wait()
                continue
            for data in items:
                if transport_log.isEnabledFor(logging.DEBUG):
                    transport_log.debug("> %s %s", session.connection_id, preview(data))
                attachment.writing_since = loop.time()
                await response.write(format_event(data))
                attachment.writing_since = None
    except (ConnectionError, RuntimeError):
        core.abort(CloseReason.CLIENT_GONE)
    finally:
        await service.finish(session)
    try:
        # A client that stopped reading would hold this last write, and the socket, for good.
        async with asyncio.timeout(core.limits.client_timeout):
            await response.write_eof()
    except (ConnectionError, RuntimeError):
        pass
    except TimeoutError:
        attachment.abort()
    return response
