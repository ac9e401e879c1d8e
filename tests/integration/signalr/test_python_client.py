"""The Python clients from PyPI connect and chat: signalrcore and pysignalr, through a
Functions-style redirect and straight to the service."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from tests.integration.signalr.support import Service, bound_socket, echo
from tests.support.timeouts import TIMEOUT

signalrcore = pytest.importorskip("signalrcore.hub_connection_builder")
pysignalr = pytest.importorskip("pysignalr.client")


class Events:
    """Thread-safe hand-off from signalrcore's threads to the test's event loop."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    def callback(self, name: str):
        return lambda *args: self.loop.call_soon_threadsafe(self.queue.put_nowait, (name, args))

    async def next(self, name: str) -> Any:
        while True:
            event, args = await asyncio.wait_for(self.queue.get(), TIMEOUT)
            if event == name:
                return args


@pytest.fixture
async def functions_negotiate() -> AsyncIterator[Any]:
    """A stand-in for the app's /api/negotiate: the redirect {url, accessToken}."""
    answer: dict[str, str] = {}

    async def negotiate(request: web.Request) -> web.Response:
        return web.json_response(answer)

    app = web.Application()
    app.router.add_post("/api/negotiate", negotiate)
    runner = web.AppRunner(app)
    await runner.setup()
    sock = bound_socket()
    await web.SockSite(runner, sock).start()

    def configure(service: Service) -> str:
        answer.update(url=f"{service.base}/client/?hub=chat", accessToken=service.client_token())
        return f"http://127.0.0.1:{sock.getsockname()[1]}/api"

    yield configure
    await runner.cleanup()


# signalrcore's stop() returns only once its reader thread receives something, so these tests
# use a short keep-alive: the next Ping lets it finish.
FAST_PING = 0.3


async def _chat(service: Service, http, url: str, options: dict[str, Any]) -> None:
    events = Events()
    hub = signalrcore.HubConnectionBuilder().with_url(url, options=options).build()
    hub.on_open(events.callback("open"))
    hub.on("newMessage", events.callback("newMessage"))
    await asyncio.to_thread(hub.start)
    try:
        await events.next("open")
        await asyncio.to_thread(hub.send, "Echo", [{"n": 7}],
                                on_invocation=events.callback("completion"))
        (completion,) = await events.next("completion")
        assert completion.result == {"n": 7}
        path = "/api/hubs/chat/:send"
        async with http.post(service.base + path, json={"target": "newMessage",
                                                        "arguments": ["hello"]},
                             headers={"Authorization": f"Bearer {service.rest_token(path)}"}) as r:
            assert r.status == 202
        (arguments,) = await events.next("newMessage")
        assert arguments == ["hello"]
    finally:
        await asyncio.to_thread(hub.stop)


async def test_signalrcore_chats_after_functions_redirect(make_service, upstream, http,
                                                          functions_negotiate):
    """signalrcore follows the redirect: direct WebSocket with a bearer header, MessagePack."""
    upstream.respond = echo
    service = await make_service(upstream.url, keep_alive_interval=FAST_PING)
    url = functions_negotiate(service)
    await _chat(service, http, url, {})
    connected = await upstream.next_call("connected")
    assert connected.headers["X-ASRS-Connection-Id"]
    message = await upstream.next_call("Echo")
    assert message.headers["Content-Type"] == "application/x-msgpack"


async def test_signalrcore_chats_with_v0_negotiate(make_service, upstream, http):
    """signalrcore negotiating v0 straight with the service (token factory) chats over JSON."""
    upstream.respond = echo
    service = await make_service(upstream.url, keep_alive_interval=FAST_PING)
    token = service.client_token()
    await _chat(service, http, f"{service.base}/client/?hub=chat",
                {"access_token_factory": lambda: token})


async def _chat_pysignalr(service: Service, http, url: str, **options: Any) -> None:
    events = Events()
    client = pysignalr.SignalRClient(url, **options)

    async def opened() -> None:
        events.queue.put_nowait(("open", ()))

    async def message(arguments: list[Any]) -> None:
        events.queue.put_nowait(("newMessage", (arguments,)))

    async def completion(message: Any) -> None:
        events.queue.put_nowait(("completion", (message,)))

    client.on_open(opened)
    client.on("newMessage", message)
    runner = asyncio.ensure_future(client.run())
    try:
        await events.next("open")
        await client.send("Echo", [{"n": 8}], on_invocation=completion)
        (result,) = await events.next("completion")
        assert result.result == {"n": 8}
        path = "/api/hubs/chat/:send"
        async with http.post(service.base + path, json={"target": "newMessage",
                                                        "arguments": ["hi"]},
                             headers={"Authorization": f"Bearer {service.rest_token(path)}"}) as r:
            assert r.status == 202
        (arguments,) = await events.next("newMessage")
        assert arguments == ["hi"]
    finally:
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner


async def test_pysignalr_chats_after_functions_redirect(make_service, upstream, http,
                                                        functions_negotiate):
    """pysignalr follows the redirect with a bearer-header WebSocket and chats over JSON."""
    upstream.respond = echo
    service = await make_service(upstream.url)
    await _chat_pysignalr(service, http, functions_negotiate(service))
    connected = await upstream.next_call("connected")
    assert "id=" not in connected.headers.get("X-ASRS-Client-Query", "")


async def test_pysignalr_chats_with_v0_negotiate(make_service, upstream, http):
    """pysignalr negotiating v0 straight with the service connects with id=<connectionId>."""
    upstream.respond = echo
    service = await make_service(upstream.url)
    token = service.client_token()
    await _chat_pysignalr(service, http, f"{service.base}/client/?hub=chat",
                          headers={"Authorization": f"Bearer {token}"})
    connected = await upstream.next_call("connected")
    # The connection id is the connection token with version 0: it never goes upstream.
    assert "id=" not in connected.headers["X-ASRS-Client-Query"]
