"""Long polling (docs/client-protocol.md, "Transports").

The first poll is answered at once with an empty 200. Later polls wait up to
``long_poll_timeout`` for data: 200 with everything queued, an empty 200 on timeout, 204 once
the connection has ended (or when a newer poll replaces this one). DELETE ends the connection
(202). While a poll waits, the client counts as alive.
"""

from __future__ import annotations

import contextlib
import logging

from aiohttp import web

from ...errors import BadRequest
from ..log import preview, transport_log
from ..protocol.connection import CloseReason
from ..service import SignalRService
from ..session import Session
from .http_common import HttpAttachment

__all__ = ["handle_delete", "handle_poll", "start_long_polling"]

_NO_CACHE = {"Cache-Control": "no-cache, no-store", "Pragma": "no-cache",
             "Expires": "Thu, 01 Jan 1970 00:00:00 GMT"}


def start_long_polling(session: Session) -> web.Response:
    """The first poll: the session is attached; answer 200 with an empty body."""
    session.attachment = HttpAttachment()
    return web.Response(status=200, headers=_NO_CACHE)


async def handle_poll(request: web.Request, service: SignalRService,
                      session: Session) -> web.StreamResponse:
    attachment = session.attachment
    if not isinstance(attachment, HttpAttachment):
        return web.Response(status=204, headers=_NO_CACHE)
    attachment.polls += 1
    poll = attachment.polls
    attachment.wakeup.set()  # an older poll still waiting ends with 204
    core = session.core
    core.hold()
    try:
        items = core.data_to_send(service.monotonic())
        if not items and not core.is_closed:
            with contextlib.suppress(TimeoutError):
                await attachment.wakeup.wait(service.config.long_poll_timeout)
            if attachment.polls != poll:
                return web.Response(status=204, headers=_NO_CACHE)
            items = core.data_to_send(service.monotonic())
    finally:
        core.release(service.monotonic())
    if items:
        body = b"".join(items)
        if transport_log.isEnabledFor(logging.DEBUG):
            transport_log.debug("> %s %s", session.connection_id, preview(body))
        content_type = "application/octet-stream" if core.binary else "text/plain"
        response = web.Response(status=200, body=body, content_type=content_type,
                                headers=_NO_CACHE)
        return await _answer(request, service, attachment, response)
    if core.is_closed:
        await service.finish(session)
        return web.Response(status=204, headers=_NO_CACHE)
    return web.Response(status=200, headers=_NO_CACHE)


async def _answer(request: web.Request, service: SignalRService, attachment: HttpAttachment,
                  response: web.Response) -> web.Response:
    """Write the poll's answer here rather than after the handler returns, so that a client
    which does not read it is noticed (the liveness sweep ends a write blocked for the client
    timeout) and its socket released."""
    attachment.transport = request.transport
    attachment.writing_since = service.monotonic()
    try:
        await response.prepare(request)
        await response.write_eof()
    except (ConnectionError, RuntimeError):
        pass  # the client went away; the session ends on the next poll or the sweep
    finally:
        attachment.writing_since = None
        attachment.transport = None
    return response


async def handle_delete(service: SignalRService, session: Session) -> web.Response:
    if session.transport != "LongPolling":
        raise BadRequest("DELETE is only for long-polling connections")
    session.core.abort(CloseReason.CLIENT_CLOSED)
    session.wake()  # a pending poll ends with 204
    await service.finish(session)
    return web.Response(status=202)
