"""A small SignalR chat client on aiohttp: JSON hub protocol over WebSockets, as the page does.

It follows the page's path exactly — ``POST /api/negotiate`` on the Functions host (user name in
``x-ms-client-principal-name``), then ``POST /client/negotiate`` on the service, then the
WebSocket with the handshake (docs/client-protocol.md, "Negotiate", "Transports" and
"Handshake") — so hundreds of them can load
the whole stack from one process (the soak), where hundreds of Node processes would not fit.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp

from tests.support.timeouts import TIMEOUT

__all__ = ["ChatClient", "HubError", "Received", "negotiate_with_app", "open_socket"]

RS = "\x1e"
PING = json.dumps({"type": 6}) + RS


class HubError(Exception):
    """The service or the function answered an invocation with an error."""


@dataclass(frozen=True)
class Received:
    target: str
    arguments: list[Any]


async def negotiate_with_app(
    http: aiohttp.ClientSession, api_url: str, user: str
) -> dict[str, Any]:
    """The app's negotiate function: ``{"url", "accessToken"}`` for ``user``."""
    headers = {"x-ms-client-principal-name": user}
    async with http.post(f"{api_url}/negotiate", headers=headers) as response:
        if response.status != 200:
            raise HubError(f"negotiate: {response.status} {await response.text()}")
        return await response.json(content_type=None)


async def open_socket(http: aiohttp.ClientSession, url: str,
                      token: str) -> tuple[aiohttp.ClientWebSocketResponse, str]:
    """Service negotiate, then the WebSocket, before any handshake: (socket, connection id)."""
    base, _, query = url.partition("?")
    negotiate_url = f"{base.rstrip('/')}/negotiate?{query}&negotiateVersion=1"
    headers = {"Authorization": f"Bearer {token}"}
    async with http.post(negotiate_url, headers=headers) as response:
        if response.status != 200:
            raise HubError(f"service negotiate: {response.status} {await response.text()}")
        body = await response.json(content_type=None)
    ws_url = f"{url}&id={quote(body['connectionToken'])}&access_token={quote(token)}"
    return await http.ws_connect(ws_url, max_msg_size=0), body["connectionId"]


class ChatClient:
    """One connection; ``received`` collects every invocation the service sent, in order."""

    def __init__(self, http: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse,
                 connection_id: str) -> None:
        self.http = http
        self.ws = ws
        self.connection_id = connection_id
        self.received: list[Received] = []
        self.close_message: dict[str, Any] | None = None
        self.closed = asyncio.Event()
        self._changed = asyncio.Condition()
        self._ids = itertools.count(1)
        self._pending: dict[str, asyncio.Future[Any]] = {}
        self._reader = asyncio.create_task(self._read())
        self._pinger = asyncio.create_task(self._ping())

    @classmethod
    async def connect(cls, http: aiohttp.ClientSession, api_url: str, user: str) -> ChatClient:
        info = await negotiate_with_app(http, api_url, user)
        return await cls.connect_to_service(http, info["url"], info["accessToken"])

    @classmethod
    async def connect_to_service(cls, http: aiohttp.ClientSession, url: str,
                                 token: str) -> ChatClient:
        ws, connection_id = await open_socket(http, url, token)
        await ws.send_str(json.dumps({"protocol": "json", "version": 1}) + RS)
        frame = await ws.receive(timeout=TIMEOUT)
        if frame.type != aiohttp.WSMsgType.TEXT or not frame.data.startswith("{}" + RS):
            await ws.close()
            raise HubError(f"handshake refused: {frame.data!r}")
        client = cls(http, ws, connection_id)
        rest = frame.data[3:]
        if rest:
            await client._handle(rest)
        return client

    # -- receiving ----------------------------------------------------------------------------

    async def _read(self) -> None:
        try:
            async for frame in self.ws:
                if frame.type != aiohttp.WSMsgType.TEXT:
                    break
                await self._handle(frame.data)
        finally:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(HubError("connection closed"))
            self.closed.set()
            async with self._changed:
                self._changed.notify_all()

    async def _handle(self, data: str) -> None:
        for record in data.split(RS):
            if not record:
                continue
            message = json.loads(record)
            kind = message.get("type")
            if kind == 1:
                self.received.append(Received(message["target"], message.get("arguments", [])))
            elif kind == 3:
                future = self._pending.pop(message.get("invocationId", ""), None)
                if future is not None and not future.done():
                    if "error" in message:
                        future.set_exception(HubError(message["error"]))
                    else:
                        future.set_result(message.get("result"))
            elif kind == 7:
                self.close_message = message
        async with self._changed:
            self._changed.notify_all()

    async def _ping(self) -> None:
        # The service drops a client silent for 30 s; the official client pings every 15 s.
        with contextlib.suppress(Exception):
            while not self.ws.closed:
                await asyncio.sleep(10)
                await self.ws.send_str(PING)

    # -- sending ------------------------------------------------------------------------------

    async def invoke(self, target: str, *arguments: Any, timeout: float = TIMEOUT) -> Any:
        """Invoke and wait for the completion; HubError carries the completion's error."""
        invocation_id = str(next(self._ids))
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[invocation_id] = future
        await self.ws.send_str(json.dumps({"type": 1, "invocationId": invocation_id,
                                           "target": target, "arguments": list(arguments)}) + RS)
        return await asyncio.wait_for(future, timeout)

    async def send_raw(self, data: str | bytes) -> None:
        if isinstance(data, bytes):
            await self.ws.send_bytes(data)
        else:
            await self.ws.send_str(data)

    # -- waiting ------------------------------------------------------------------------------

    def messages(self, target: str = "newMessage") -> list[Any]:
        return [r.arguments[0] for r in self.received if r.target == target and r.arguments]

    async def wait_for(self, predicate: Callable[[ChatClient], bool],
                       timeout: float = TIMEOUT) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: predicate(self))

    async def wait_for_message(self, text: str, timeout: float = TIMEOUT) -> dict[str, Any]:
        await self.wait_for(lambda c: any(m.get("text") == text for m in c.messages()), timeout)
        return next(m for m in self.messages() if m.get("text") == text)

    async def close(self) -> None:
        self._pinger.cancel()
        with contextlib.suppress(Exception):
            await self.ws.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._reader, TIMEOUT)
