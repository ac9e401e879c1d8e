"""Long polling (signalr-protocol.md §3.3).

The first poll is answered at once with an empty 200. Later polls wait up to
``long_poll_timeout`` for data: 200 with everything queued, an empty 200 on timeout, 204 once the
connection has ended (or when a newer poll replaces this one). DELETE ends the connection (202).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web

from ..connection import ClientConnection
from ..log import preview, transport_log
from ..protocol.errors import BadRequest
from ..service import SignalRService
from .http_common import watch_liveness

__all__ = ["handle_delete", "handle_poll", "start_long_polling"]

_NO_CACHE = {"Cache-Control": "no-cache, no-store", "Pragma": "no-cache",
             "Expires": "Thu, 01 Jan 1970 00:00:00 GMT"}


def start_long_polling(service: SignalRService, connection: ClientConnection) -> web.Response:
    """The first poll: register the watchdog and answer 200 with an empty body."""
    connection.last_activity = asyncio.get_running_loop().time()
    watchdog = asyncio.ensure_future(_supervise(service, connection))
    service.connection_tasks.add(watchdog)
    watchdog.add_done_callback(service.connection_tasks.discard)
    return web.Response(status=200, headers=_NO_CACHE)


async def _supervise(service: SignalRService, connection: ClientConnection) -> None:
    try:
        await watch_liveness(service, connection, inherent_keep_alive=True)
        # Closed: give a pending or next poll the chance to collect the Close message.
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(connection.finished.wait(), service.config.client_timeout)
    finally:
        await service.finish(connection)


async def handle_poll(request: web.Request, service: SignalRService,
                      connection: ClientConnection) -> web.Response:
    loop = asyncio.get_running_loop()
    if connection.poll is not None and not connection.poll.done():
        connection.poll.set_result(None)  # the older poll ends with 204
    poll: asyncio.Future[None] = loop.create_future()
    connection.poll = poll
    connection.last_activity = loop.time()
    waiter = asyncio.ensure_future(connection.outbox.wait())
    try:
        done, _ = await asyncio.wait(
            {waiter, poll}, timeout=service.config.long_poll_timeout,
            return_when=asyncio.FIRST_COMPLETED,
        )
    finally:
        waiter.cancel()
        if connection.poll is poll:
            connection.poll = None
        connection.last_activity = loop.time()
    if poll in done:
        return web.Response(status=204, headers=_NO_CACHE)
    items = connection.outbox.drain()
    if items:
        body = b"".join(items)
        if transport_log.isEnabledFor(logging.DEBUG):
            transport_log.debug("> %s %s", connection.connection_id, preview(body))
        content_type = "application/octet-stream" if connection.binary else "text/plain"
        return web.Response(status=200, body=body, content_type=content_type, headers=_NO_CACHE)
    if connection.outbox.closed:
        await service.finish(connection)
        return web.Response(status=204, headers=_NO_CACHE)
    return web.Response(status=200, headers=_NO_CACHE)


async def handle_delete(service: SignalRService, connection: ClientConnection) -> web.Response:
    if connection.transport != "LongPolling":
        raise BadRequest("DELETE is only for long-polling connections")
    connection.outbox.drain()
    connection.core.close()
    connection.outbox.close()
    if connection.poll is not None and not connection.poll.done():
        connection.poll.set_result(None)
    await service.finish(connection)
    return web.Response(status=202)
