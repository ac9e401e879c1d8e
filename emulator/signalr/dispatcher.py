"""Upstream dispatch: each session's ``connected`` / ``disconnected`` events and invocations go
to the first matching upstream rule; an invocation's answer becomes the caller's completion.

A failing upstream never drops the connection: ``connected`` and ``disconnected`` are
notifications (failures are logged), and an invocation that cannot be delivered gets an error
completion (docs/serverless-contracts.md, "Upstream").
"""

from __future__ import annotations

import asyncio
import contextlib

from ..contracts.messages import Invocation
from ..errors import UpstreamError
from .admission import Admission
from .config import ServiceConfig
from .log import printable, upstream_log
from .protocol.upstream import (
    CONNECTIONS,
    MESSAGES,
    build_upstream_headers,
    completion_for_failure,
    completion_for_response,
    connected_body,
    disconnected_body,
    expand_url,
    find_template,
    invocation_body,
)
from .session import Session
from .upstream_client import UpstreamClient

__all__ = ["CONNECTS_AT_ONCE", "CONNECT_HOLD", "Dispatcher"]

CONNECTS_AT_ONCE = 24
"""``connected`` calls in the upstream at once. Measured in the join storm (1,000 joins in
10 s, benchmarks/RESULTS.md): with no limit the chat's round trip reached 0.6-1.5 s; 16 kept it
lowest but queued the joins for a second; 24 kept it under 250 ms and joined faster than no
limit at all."""
CONNECT_HOLD = 3.0
"""Seconds a ``connected`` call keeps its place; one that takes longer lets the next start."""


class Dispatcher:
    def __init__(self, config: ServiceConfig) -> None:
        self._config = config
        self.templates = config.upstream
        """The upstream rules in force; a reloaded settings file replaces them."""
        self.client = UpstreamClient(timeout=config.upstream_timeout)
        self.events_client = UpstreamClient(timeout=config.upstream_timeout)
        """Connection events have a pool of their own: a crowd connecting never makes a
        message wait for a connection to the upstream."""
        self._connects = Admission(CONNECTS_AT_ONCE, CONNECT_HOLD)
        self._disconnects: set[asyncio.Future[None]] = set()
        """One future per ``disconnected`` call in flight; shutdown waits for them."""

    async def start(self) -> None:
        await self.client.start()
        await self.events_client.start()

    async def close(self) -> None:
        await self.client.close()
        await self.events_client.close()

    async def connected(self, session: Session) -> None:
        """A few at a time (:mod:`.admission`); the session's messages wait for it."""
        with contextlib.suppress(UpstreamError):
            async with self._connects.turn():
                await self._call(session, CONNECTIONS, "connected", connected_body(),
                                 "application/json")

    async def disconnected(self, session: Session, error: str | None) -> None:
        done = asyncio.get_running_loop().create_future()
        self._disconnects.add(done)
        try:
            await self._call(session, CONNECTIONS, "disconnected", disconnected_body(error),
                             "application/json")
        except UpstreamError:
            pass
        finally:
            self._disconnects.discard(done)
            done.set_result(None)

    async def invocation(self, session: Session, message: Invocation) -> None:
        """Forward the invocation; queue the caller's completion (when it expects one)."""
        protocol = session.core.protocol
        assert protocol is not None
        invocation_id = message.invocation_id
        body = invocation_body(message, protocol)
        try:
            result = await self._call(session, MESSAGES, message.target, body,
                                      protocol.content_type)
        except UpstreamError as exc:
            if invocation_id is not None:
                session.send_data(completion_for_failure(invocation_id, f"error: {exc}.",
                                                         protocol))
            return
        if invocation_id is None:
            return
        if result is None:
            session.send_data(completion_for_failure(
                invocation_id, "no upstream is configured for this event.", protocol))
            return
        status, payload = result
        data = completion_for_response(invocation_id, status, payload, protocol)
        count = len(protocol.decode(data)) if session.core.buffer is not None else 1
        session.send_data(data, count)

    async def wait_disconnects(self, timeout: float) -> None:
        """Until every ``disconnected`` call in flight has ended (bounded)."""
        if self._disconnects:
            await asyncio.wait(list(self._disconnects), timeout=timeout)

    async def _call(self, session: Session, category: str, event: str, body: bytes,
                    content_type: str) -> tuple[int, bytes] | None:
        """POST to the first matching template; None when none matches. Raises UpstreamError."""
        template = find_template(self.templates, session.hub, category, event)
        if template is None:
            upstream_log.info("no upstream template matches hub %s, %s %s; not sent",
                              session.hub, category, printable(event))
            return None
        url = expand_url(template.url_template, session.hub, category, event)
        headers = build_upstream_headers(
            connection_id=session.connection_id, hub=session.hub, category=category,
            event=event, keys=self._config.access_keys, content_type=content_type,
            user_id=session.user_id, claims_header=session.claims_header,
            query_header=session.query_header,
        )
        client = self.events_client if category == CONNECTIONS else self.client
        return await client.post(url, body, headers)
