"""What the SSE and long-polling transports share: their attachment and POST sends."""

from __future__ import annotations

import asyncio

from aiohttp import web

from ...errors import Conflict, MethodNotAllowed, PayloadTooLarge
from ..service import SignalRService
from ..session import Session, Wakeup
from ..streams import read_limited

__all__ = ["HttpAttachment", "handle_post"]


class HttpAttachment:
    """A session served over plain HTTP requests: the writer to wake, and sends in progress."""

    __slots__ = ("polls", "post_busy", "transport", "wakeup", "writing_since")

    def __init__(self, transport: asyncio.Transport | None = None) -> None:
        self.transport = transport
        """SSE: the socket of the event stream; long polling: the socket its poll is answered
        on, while it is answered."""
        self.wakeup = Wakeup()
        self.writing_since: float | None = None
        self.post_busy = False
        """A POST send is being handled (a second one gets 409)."""
        self.polls = 0
        """Long polling: counts polls, so a superseded one knows to answer 204."""

    def wake(self) -> None:
        self.wakeup.set()

    def is_gone(self) -> bool:
        return self.transport is not None and self.transport.is_closing()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()
        self.wakeup.set()


async def handle_post(request: web.Request, service: SignalRService,
                      session: Session) -> web.Response:
    """``POST /client/?id=``: the body is one or more messages.

    docs/client-protocol.md, "Transports".
    """
    attachment = session.attachment
    if not isinstance(attachment, HttpAttachment):
        raise MethodNotAllowed("POST requests are not allowed for WebSocket connections")
    if attachment.post_busy:
        raise Conflict("another send request is in progress")
    limit = service.config.max_message_size
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"message larger than {limit} bytes")
    attachment.post_busy = True
    try:
        body = await read_limited(request.content, limit, service.config.body_timeout)
        if len(body) > limit:
            raise PayloadTooLarge(f"message larger than {limit} bytes")
        session.core.note_activity(service.monotonic())
        await service.receive(session, body)
    finally:
        attachment.post_busy = False
    return web.Response(status=200, content_type="text/plain")
