"""The app's own calls to the SignalR Service's REST API (chat.service describes them).

The output binding cannot answer questions ("does this connection exist?") nor send items one by
one so that a failure cannot hold back the others; :class:`Service` does both. It uses aiohttp,
which azure-functions-durable already depends on (its client is built on it), with one session
per event loop so calls reuse connections. Credentials: the connection string's ``AccessKey`` (an
HS256 token per request, chat.tokens) or, for the identity-based form, a token from the App
Service managed identity endpoint. Without either it is not ``usable``: callers then fall back to
the output binding and to presence.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections.abc import AsyncGenerator, Mapping, Sequence

import aiohttp
from yarl import URL

from chat import Endpoint, Request, endpoint_from, endpoint_setting_names, rest_token
from chat.outputs import Item
from chat.service import (
    close_connection_request,
    connection_exists_request,
    identity_token_request,
    parse_identity_token,
    send_request,
    user_exists_request,
)

__all__ = ["Service"]

log = logging.getLogger("chat")
TIMEOUT = aiohttp.ClientTimeout(total=10)
QUESTIONS_AT_ONCE = 16
_FAILURES = (aiohttp.ClientError, TimeoutError, ValueError)


IDENTITY_SETTINGS = ("IDENTITY_ENDPOINT", "IDENTITY_HEADER")
"""Where App Service's managed identity endpoint is (set by the platform)."""


class Service:
    """The app's own calls to the SignalR Service's REST API."""

    @staticmethod
    def setting_names(connection: str) -> tuple[str, ...]:
        """Every setting a Service for the connection setting ``connection`` reads."""
        return (*endpoint_setting_names(connection), *IDENTITY_SETTINGS)

    def __init__(self, settings: Mapping[str, str], connection: str, hub: str) -> None:
        self.hub = hub
        self.endpoint: Endpoint | None = endpoint_from(settings, connection)
        self._identity = tuple(settings.get(name) for name in IDENTITY_SETTINGS)
        self._token: tuple[str, float] | None = None
        self._sessions: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop,
            tuple[aiohttp.ClientSession, AsyncGenerator[aiohttp.ClientSession, None]],
        ] = weakref.WeakKeyDictionary()

    @property
    def usable(self) -> bool:
        if self.endpoint is None:
            return False
        return self.endpoint.access_key is not None or all(self._identity)

    async def _session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        kept = self._sessions.get(loop)
        if kept is None or kept[0].closed:
            session = aiohttp.ClientSession(timeout=TIMEOUT)
            keeper = _kept_open(session)
            await anext(keeper)
            self._sessions[loop] = kept = (session, keeper)
        return kept[0]

    async def _bearer(self, audience: str) -> str:
        assert self.endpoint is not None
        if self.endpoint.access_key is not None:
            return rest_token(audience, self.endpoint.access_key, time.time())
        if self._token is None or self._token[1] - time.time() < 300:
            endpoint, header = self._identity
            assert endpoint and header
            url, headers = identity_token_request(endpoint, header, self.endpoint.client_id)
            async with (await self._session()).get(url, headers=headers) as response:
                response.raise_for_status()
                self._token = parse_identity_token(await response.json(content_type=None))
        return self._token[0]

    async def _call(self, request: Request) -> int:
        headers = {"Authorization": f"Bearer {await self._bearer(request.audience)}"}
        if request.body is not None:
            headers["Content-Type"] = "application/json"
        # encoded=True: the path goes out byte for byte as the token's audience names it.
        session = await self._session()
        async with session.request(request.method, URL(request.url, encoded=True),
                                   data=request.body, headers=headers) as response:
            await response.read()
            return response.status

    async def _exists(self, request: Request) -> bool | None:
        """200: True; 404: False; anything else, or no answer: None (unknown)."""
        if not self.usable:
            return None
        try:
            status = await self._call(request)
        except _FAILURES as exc:
            log.warning("could not ask the SignalR Service (%s): %s", type(exc).__name__, exc)
            return None
        if status in (200, 404):
            return status == 200
        log.warning("the SignalR Service answered %d to %s %s", status, request.method,
                    request.audience)
        return None

    async def connection_exists(self, connection_id: str) -> bool | None:
        if self.endpoint is None:
            return None
        return await self._exists(connection_exists_request(self.endpoint, self.hub,
                                                            connection_id))

    async def user_exists(self, user: str) -> bool | None:
        if self.endpoint is None:
            return None
        return await self._exists(user_exists_request(self.endpoint, self.hub, user))

    async def alive(self, connection_ids: Sequence[str]) -> dict[str, bool]:
        """The service's answer for each connection; unknown answers are left out."""
        gate = asyncio.Semaphore(QUESTIONS_AT_ONCE)

        async def ask(cid: str) -> bool | None:
            async with gate:
                return await self.connection_exists(cid)

        answers = await asyncio.gather(*(ask(cid) for cid in connection_ids))
        return {cid: ok for cid, ok in zip(connection_ids, answers, strict=True) if ok is not None}

    async def send_each(self, items: Sequence[Item]) -> bool:
        """Send every item on its own, at once; a failure is logged and the others still go.
        True when the service accepted every one."""
        assert self.endpoint is not None and self.usable
        endpoint = self.endpoint

        async def one(item: Item) -> bool:
            request = send_request(endpoint, self.hub, item)
            try:
                status = await self._call(request)
            except _FAILURES as exc:
                log.warning("could not send %s (%s): %s", _describe(item), type(exc).__name__,
                            exc)
                return False
            if not 200 <= status < 300:
                log.warning("the SignalR Service answered %d to %s", status, _describe(item))
                return False
            return True

        return all(await asyncio.gather(*(one(item) for item in items)))

    async def aclose(self) -> None:
        """Close this event loop's session now rather than when the loop shuts down."""
        kept = self._sessions.pop(asyncio.get_running_loop(), None)
        if kept is not None:
            await kept[1].aclose()

    async def close(self, connection_id: str, reason: str) -> None:
        if self.endpoint is None or not self.usable:
            return
        with contextlib.suppress(*_FAILURES):
            await self._call(close_connection_request(self.endpoint, self.hub, connection_id,
                                                      reason))


async def _kept_open(
    session: aiohttp.ClientSession,
) -> AsyncGenerator[aiohttp.ClientSession, None]:
    """Hands out ``session`` and closes it when its event loop shuts down: the loop closes every
    async generator still suspended (``loop.shutdown_asyncgens``, which ``asyncio.run`` and the
    test runners call), so no session is left unclosed when a host stops."""
    try:
        yield session
        await asyncio.get_running_loop().create_future()  # never resumed
    finally:
        await session.close()


def _describe(item: Item) -> str:
    if "action" in item:
        return f"group {item['action']} {item.get('groupName')}"
    return f"{item.get('target')} to {item.get('connectionId') or item.get('userId') or 'all'}"
