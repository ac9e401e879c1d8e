"""Client connections to each kind of target, over aiohttp WebSockets, loopback only.

A target is reached the way its users reach it: the stack through the app's ``/api/negotiate``
then the service's ``/client/negotiate`` and the WebSocket; the service alone through its own
negotiate with a token we sign (what the Functions input binding does); Socket.IO through its
Engine.IO WebSocket URL; the plain server through ``/ws``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import aiohttp

from emulator.contracts import client_audience, issue_token
from emulator.contracts.framing import split_length_prefixed

from .wire import TAG, Codec

__all__ = [
    "HUB",
    "Client",
    "Connector",
    "Poster",
    "RawConnector",
    "SignalRServiceConnector",
    "SignalRStackConnector",
    "SocketIOConnector",
    "check_loopback",
]

HUB = "chat"
TEXT_TAG = re.compile(TAG.pattern.decode())
OnTag = Callable[[int, int, int, float], None]
"""(receiver index, sender index, sequence, perf_counter time) for each tag received."""


def check_loopback(url: str) -> None:
    """Refuse any URL that does not point at this machine: the generator is loopback only."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise ValueError(f"refusing a non-loopback target: {host!r}")


class Client:
    """One WebSocket client; a single task reads it and reports every tag it sees."""

    def __init__(self, index: int, ws: aiohttp.ClientWebSocketResponse, codec: Codec) -> None:
        self.index = index
        self.ws = ws
        self.codec = codec
        self.frames = 0
        self.on_tag: OnTag | None = None
        self.last_frame = time.perf_counter()
        self._reader: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        text_tag = TEXT_TAG
        index = self.index
        async for message in self.ws:
            now = time.perf_counter()
            self.frames += 1
            self.last_frame = now
            data = message.data
            if message.type == aiohttp.WSMsgType.TEXT:
                if len(data) < 4:
                    reply = self.codec.reply(data.encode())
                    if reply is not None:
                        await self.ws.send_str(reply.decode())
                    continue
                if '"history"' in data:
                    data = _without_history_text(data)
                matches = text_tag.findall(data)
            elif message.type == aiohttp.WSMsgType.BINARY:
                if b"history" in data:
                    data = _without_history_binary(data)
                matches = TAG.findall(data)
            else:
                break
            on_tag = self.on_tag
            if on_tag is not None:
                for sender, seq in matches:
                    on_tag(index, int(sender), int(seq), now)

    async def send(self, frame: bytes) -> None:
        if self.codec.binary:
            await self.ws.send_bytes(frame)
        else:
            await self.ws.send_str(frame.decode())

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        await self.ws.close()


# A delivery is a message pushed live. The chat also sends a ``history`` of recent messages to a
# connection it registers late, and in these scenarios that is every connection's first send
# (the service forwards only ``messages`` events, so the app never sees ``connected``); those
# records repeat messages the connection was already given, and are not counted.
HISTORY_RECORD = re.compile(r'"target"\s*:\s*"history"')


def _without_history_text(data: str) -> str:
    return "\x1e".join(r for r in data.split("\x1e") if not HISTORY_RECORD.search(r))


def _without_history_binary(data: bytes) -> bytes:
    """MessagePack records (varint length prefix) minus those whose target is ``history``."""
    records = split_length_prefixed(data)
    return b"\n".join(r for r in records if b"\xa7history" not in r[:32])


async def _first_frame(ws: aiohttp.ClientWebSocketResponse, timeout: float) -> str:
    message = await ws.receive(timeout=timeout)
    if message.type == aiohttp.WSMsgType.BINARY:
        return bytes(message.data).decode(errors="replace")
    if message.type != aiohttp.WSMsgType.TEXT:
        raise ConnectionError(f"connection ended before it was ready ({message.type.name})")
    return str(message.data)


class Connector(Protocol):
    codec: Codec

    async def connect(self, session: aiohttp.ClientSession, index: int) -> Client: ...


@dataclass
class _SignalRBase:
    codec: Codec
    timeout: float = 30.0

    async def _open(self, session: aiohttp.ClientSession, index: int, url: str,
                    token: str) -> Client:
        """The service's negotiate, the WebSocket, the handshake.

        docs/client-protocol.md, "Negotiate", "Transports" and "Handshake".
        """
        check_loopback(url)
        base, _, query = url.partition("?")
        negotiate = base.rstrip("/") + "/negotiate?" + query + "&negotiateVersion=1"
        # Connection: close, so idle keep-alive negotiate connections do not count as the
        # memory of WebSocket connections (a browser's would close soon after, too).
        auth = {"Authorization": f"Bearer {token}", "Connection": "close"}
        async with session.post(negotiate, headers=auth) as response:
            response.raise_for_status()
            body = await response.json()
        ws_url = (base.replace("http", "ws", 1) + "?" + query + "&id=" + body["connectionToken"]
                  + "&access_token=" + token)
        ws = await session.ws_connect(ws_url, autoping=True, max_msg_size=0)
        await ws.send_str(self.codec.handshake().decode())
        answer = await _first_frame(ws, self.timeout)
        if not answer.startswith("{}"):
            await ws.close()
            raise ConnectionError(f"handshake refused: {answer[:200]!r}")
        return Client(index, ws, self.codec)


@dataclass
class SignalRStackConnector(_SignalRBase):
    """Through the app: ``POST /api/negotiate`` (the user name header) then the service."""

    host_url: str = ""

    async def connect(self, session: aiohttp.ClientSession, index: int) -> Client:
        check_loopback(self.host_url)
        headers = {"x-ms-client-principal-name": f"user{index}", "Connection": "close"}
        async with session.post(f"{self.host_url}/api/negotiate", headers=headers) as response:
            response.raise_for_status()
            info = await response.json(content_type=None)
        return await self._open(session, index, info["url"], info["accessToken"])


@dataclass
class SignalRServiceConnector(_SignalRBase):
    """Straight to the service alone, with a client token signed as the input binding does."""

    service_url: str = ""
    access_key: str = ""

    async def connect(self, session: aiohttp.ClientSession, index: int) -> Client:
        split = urlsplit(self.service_url)
        audience = client_audience(f"{split.scheme}://{split.hostname}", HUB)
        token = issue_token(audience=audience, key=self.access_key, now=time.time(),
                            user_id=f"user{index}")
        return await self._open(session, index, f"{self.service_url}/client/?hub={HUB}", token)


@dataclass
class SocketIOConnector:
    codec: Codec
    url: str
    timeout: float = 30.0

    async def connect(self, session: aiohttp.ClientSession, index: int) -> Client:
        check_loopback(self.url)
        ws_url = self.url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
        ws = await session.ws_connect(ws_url, autoping=True, max_msg_size=0)
        opened = await _first_frame(ws, self.timeout)  # "0{...}": the Engine.IO open packet
        if not opened.startswith("0"):
            raise ConnectionError(f"unexpected Engine.IO open: {opened[:200]!r}")
        await ws.send_str(self.codec.handshake().decode())
        while True:
            answer = await _first_frame(ws, self.timeout)
            if answer == "2":
                await ws.send_str("3")
                continue
            if answer.startswith("40"):
                return Client(index, ws, self.codec)
            raise ConnectionError(f"Socket.IO connect refused: {answer[:200]!r}")


@dataclass
class RawConnector:
    codec: Codec
    url: str
    timeout: float = 30.0

    async def connect(self, session: aiohttp.ClientSession, index: int) -> Client:
        check_loopback(self.url)
        ws = await session.ws_connect(self.url.replace("http", "ws", 1) + "/ws", autoping=True,
                                      max_msg_size=0)
        if await _first_frame(ws, self.timeout) != "hello":
            raise ConnectionError("the broadcast server did not say hello")
        return Client(index, ws, self.codec)


@dataclass
class Poster:
    """Broadcasts over HTTP: the service's REST API, or the baselines' ``POST /broadcast``."""

    url: str
    access_key: str | None = None
    """Set for the SignalR service: a REST token signed with it, ``aud`` = the URL."""

    def __post_init__(self) -> None:
        check_loopback(self.url)
        self._token: str | None = None
        if self.access_key is not None:
            self._token = issue_token(audience=self.url, key=self.access_key, now=time.time())

    async def post(self, session: aiohttp.ClientSession, text: str) -> None:
        if self._token is not None:
            # The body the Functions output binding posts (emulator/functions/signalr_output.py).
            payload = {"Target": "newMessage", "Arguments": [{"text": text}]}
            headers = {"Authorization": f"Bearer {self._token}"}
            async with session.post(self.url, json=payload, headers=headers) as response:
                await response.read()
                if response.status != 202:
                    raise RuntimeError(f"REST broadcast answered {response.status}")
        else:
            async with session.post(self.url, data=text.encode()) as response:
                await response.read()
                if response.status != 202:
                    raise RuntimeError(f"broadcast answered {response.status}")
