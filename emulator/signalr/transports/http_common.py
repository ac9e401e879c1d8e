"""What the SSE and long-polling transports share: POST sends and the liveness watchdog."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiohttp import web

from ..connection import ClientConnection
from ..log import transport_log
from ..protocol.connection import State
from ..protocol.errors import Conflict, PayloadTooLarge, SignalRError
from ..service import SignalRService
from ..streams import read_limited

__all__ = ["handle_post", "watch_liveness"]


class MethodNotAllowed(SignalRError):
    status_hint = 405


async def handle_post(request: web.Request, service: SignalRService,
                      connection: ClientConnection) -> web.Response:
    """``POST /client/?id=``: the body is one or more messages (signalr-protocol.md §3.2)."""
    if connection.transport == "WebSockets":
        raise MethodNotAllowed("POST requests are not allowed for WebSocket connections")
    if connection.post_busy:
        raise Conflict("another send request is in progress")
    limit = service.config.max_message_size
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"message larger than {limit} bytes")
    connection.post_busy = True
    try:
        body = await read_limited(request.content, limit)
        if len(body) > limit:
            raise PayloadTooLarge(f"message larger than {limit} bytes")
        connection.last_activity = asyncio.get_running_loop().time()
        await service.receive(connection, body)
    finally:
        connection.post_busy = False
    return web.Response(status=200, content_type="text/plain")


async def watch_liveness(service: SignalRService, connection: ClientConnection,
                         *, inherent_keep_alive: bool,
                         transport_gone: Callable[[], bool] | None = None) -> None:
    """Close a connection whose client went quiet: no handshake in time, or no traffic for
    ``client_timeout`` (for long polling: no poll, send or message)."""
    loop = asyncio.get_running_loop()
    config = service.config
    started = loop.time()
    tick = min(1.0, config.client_timeout / 4, connection.handshake_timeout / 4)
    while not connection.finished.is_set() and not connection.outbox.closed:
        await asyncio.sleep(tick)
        now = loop.time()
        if transport_gone is not None and transport_gone():
            connection.close_error = connection.close_error or "The client went away."
            connection.outbox.close()
        elif connection.core.state is State.HANDSHAKE:
            if now - started > connection.handshake_timeout:
                transport_log.warning("connection %s sent no handshake in time",
                                      connection.connection_id)
                connection.close("Handshake was canceled.")
        elif (now - connection.last_activity > config.client_timeout
              and not (inherent_keep_alive and connection.poll is not None)):
            transport_log.warning("dropping connection %s: silent for %.0f s",
                                  connection.connection_id, config.client_timeout)
            connection.close("Server timeout elapsed without receiving a message from the "
                             "client.")
