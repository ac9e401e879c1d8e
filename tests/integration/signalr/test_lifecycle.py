"""Start-up and shutdown of the app as the lead runs it (AppRunner + SockSite)."""

from __future__ import annotations

import asyncio

import aiohttp
from aiohttp import web

from emulator.signalr import ServiceConfig, dispatcher, make_app
from tests.integration.signalr.support import KEY, Service, bound_socket, connect_client, echo
from tests.support.timeouts import TIMEOUT


async def test_shutdown_sends_close_to_clients_and_ends_sockets(http):
    """Stopping the service gives each client a Close (allowReconnect) and a WebSocket close."""
    config = ServiceConfig(access_keys=(KEY,))
    app = make_app(config)
    runner = web.AppRunner(app)
    await runner.setup()
    sock = bound_socket()
    await web.SockSite(runner, sock).start()
    port = sock.getsockname()[1]
    service = Service(base=f"http://127.0.0.1:{port}", port=port, config=config, app=app)
    client = await connect_client(http, service)
    await runner.cleanup()
    assert await client.receive() == {"type": 7, "error": "Service is shutting down.",
                                      "allowReconnect": True}
    frame = await client.ws.receive(timeout=TIMEOUT)
    assert frame.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_service_keeps_a_pinging_client_while_its_invocation_waits_upstream(
    make_service, upstream, http
) -> None:
    """A slow upstream call does not make the service time out a client that keeps pinging."""

    async def slow(call):
        if call.headers["X-ASRS-Category"] == "messages":
            await asyncio.sleep(1.5)  # the upstream is slower than the client timeout
        return await echo(call)

    upstream.respond = slow
    service = await make_service(upstream.url, client_timeout=1.0)
    client = await connect_client(http, service)
    await client.send({"type": 1, "invocationId": "1", "target": "Echo", "arguments": ["late"]})

    async def keep_pinging() -> None:
        while True:
            await client.send({"type": 6})
            await asyncio.sleep(0.2)

    pinger = asyncio.create_task(keep_pinging())
    try:
        answer = await client.receive_until(lambda m: m.get("type") in (3, 7))
    finally:
        pinger.cancel()
    assert answer == {"type": 3, "invocationId": "1", "result": "late"}


async def test_a_crowd_connecting_is_admitted_a_few_at_a_time_and_messages_go_on(
    make_service, upstream, http, monkeypatch
) -> None:
    """While the upstream holds ``connected`` calls, at most CONNECTS_AT_ONCE are in it; a
    client already connected still gets its invocations answered; the rest follow."""
    monkeypatch.setattr(dispatcher, "CONNECT_HOLD", 60.0)  # places are not given up by time
    released = asyncio.Event()
    held = 0

    async def holding(call):
        nonlocal held
        if call.headers["X-ASRS-Event"] == "connected" and not released.is_set():
            held += 1
            await released.wait()
        return await echo(call)

    service = await make_service(upstream.url)
    chatting = await connect_client(http, service)
    await upstream.next_call("connected")
    upstream.respond = holding
    crowd = [await connect_client(http, service) for _ in range(dispatcher.CONNECTS_AT_ONCE + 6)]
    for _ in range(dispatcher.CONNECTS_AT_ONCE):
        await upstream.next_call("connected")
    await chatting.send({"type": 1, "invocationId": "1", "target": "Echo", "arguments": ["hi"]})
    answer = await chatting.receive_until(lambda m: m.get("type") in (3, 7))
    assert answer == {"type": 3, "invocationId": "1", "result": "hi"}
    assert held == dispatcher.CONNECTS_AT_ONCE, "the rest of the crowd waits its turn"
    released.set()
    for _ in range(6):
        await upstream.next_call("connected")
    for client in (chatting, *crowd):
        await client.ws.close()
