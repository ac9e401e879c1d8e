"""Helpers for the service's integration tests: the app on 127.0.0.1:0, an upstream recorder, a
hand-driven JSON client."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import msgpack
from aiohttp import web

from emulator.contracts import client_audience, issue_token
from emulator.contracts.framing import frame_length_prefixed, split_length_prefixed
from emulator.signalr import ServiceConfig
from tests.support.timeouts import TIMEOUT

KEY = "integration-test-key-0123456789abcdef"
RS = "\x1e"


def bound_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Upstream:
    """A real aiohttp server standing in for the Functions host; records each webhook call."""

    url: str
    calls: list[Recorded] = field(default_factory=list)
    arrived: asyncio.Queue[Recorded] = field(default_factory=asyncio.Queue)
    respond: Callable[[Recorded], Awaitable[web.Response]] | None = None

    async def next_call(self, event: str | None = None) -> Recorded:
        while True:
            call = await asyncio.wait_for(self.arrived.get(), TIMEOUT)
            if event is None or call.headers.get("X-ASRS-Event") == event:
                return call


@dataclass
class Service:
    base: str
    port: int
    config: ServiceConfig
    app: web.Application

    def client_token(self, hub: str = "chat", **kwargs: Any) -> str:
        return issue_token(audience=client_audience("http://127.0.0.1", hub), key=KEY,
                           now=time.time(), **kwargs)

    def rest_token(self, path: str) -> str:
        return issue_token(audience=f"http://127.0.0.1{path}", key=KEY, now=time.time())


class RawClient:
    """A hand-driven JSON hub client over aiohttp's WebSocket (the test's eyes on the wire)."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, connection_id: str) -> None:
        self.ws = ws
        self.connection_id = connection_id
        self._pending: list[dict[str, Any]] = []

    async def send(self, obj: dict[str, Any]) -> None:

        await self.ws.send_str(json.dumps(obj) + RS)

    async def receive(self, skip_pings: bool = True) -> dict[str, Any]:

        while True:
            while self._pending:
                message = self._pending.pop(0)
                if not (skip_pings and message.get("type") == 6):
                    return message
            frame = await self.ws.receive(timeout=TIMEOUT)
            assert frame.type == aiohttp.WSMsgType.TEXT, frame
            assert frame.data.endswith(RS)
            self._pending += [json.loads(p) for p in frame.data.split(RS) if p]

    async def receive_until(self, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        while True:
            message = await self.receive()
            if predicate(message):
                return message


async def connect_client(http: aiohttp.ClientSession, service: Service, *, hub: str = "chat",
                         token: str | None = None, negotiate: bool = True) -> RawClient:
    token = token or service.client_token(hub)
    headers = {"Authorization": f"Bearer {token}"}
    connection_id = ""
    url = f"{service.base}/client/?hub={hub}"
    if negotiate:
        async with http.post(f"{service.base}/client/negotiate?hub={hub}&negotiateVersion=1",
                             headers=headers) as response:
            assert response.status == 200, await response.text()
            body = await response.json()
        connection_id = body["connectionId"]
        url += f"&id={body['connectionToken']}"
    ws = await http.ws_connect(url + f"&access_token={token}")
    await ws.send_str('{"protocol":"json","version":1}' + RS)
    frame = await ws.receive(timeout=TIMEOUT)
    assert frame.type == aiohttp.WSMsgType.TEXT and frame.data.startswith("{}" + RS), frame
    client = RawClient(ws, connection_id)
    rest = frame.data[3:]
    if rest:

        client._pending += [json.loads(p) for p in rest.split(RS) if p]
    return client


async def echo(call) -> web.Response:
    """An upstream that answers invoke('Echo', x) with x, and 'Fail' with an error."""
    if call.headers["X-ASRS-Category"] != "messages":
        return web.Response(status=200)
    if call.headers["Content-Type"] == "application/x-msgpack":
        (payload,) = [msgpack.unpackb(call.body)]
        invocation_id, target, args = payload[2], payload[3], payload[4]
        if target == "Fail":
            body = frame_length_prefixed(msgpack.packb([3, {}, invocation_id, 1, "nope"]))
        else:
            body = frame_length_prefixed(msgpack.packb([3, {}, invocation_id, 3, args[0]]))
        assert split_length_prefixed(body)
        return web.Response(body=body, content_type="application/x-msgpack")
    invocation = json.loads(call.body)
    if invocation["target"] == "Fail":
        completion = {"type": 3, "invocationId": invocation["invocationId"], "error": "nope"}
    else:
        completion = {"type": 3, "invocationId": invocation["invocationId"],
                      "result": invocation["arguments"][0]}
    return web.Response(body=(json.dumps(completion) + RS).encode(),
                        content_type="application/json")
