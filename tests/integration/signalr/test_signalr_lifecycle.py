"""Start-up and shutdown of the app as the lead runs it (AppRunner + SockSite)."""

from __future__ import annotations

import aiohttp
from aiohttp import web
from signalr_support import KEY, Service, bound_socket, connect_client

from emulator.signalr import ServiceConfig, make_app
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
