"""The plain aiohttp WebSocket broadcast server: the practical ceiling for Python here.

``/ws``: every text frame a client sends goes, unchanged and encoded once, to every client.
``POST /broadcast``: the body goes to every client (the REST scenario's counterpart).
A client gets ``hello`` once it is registered, so the generator knows it will be counted.
"""

from __future__ import annotations

import contextlib

from aiohttp import WSMsgType, web

__all__ = ["make_app"]

CLIENTS = web.AppKey("clients", set)


async def _broadcast(app: web.Application, data: bytes) -> None:
    """Encoded once by the caller; send_frame only waits when a socket's buffer is full."""
    for ws in list(app[CLIENTS]):
        with contextlib.suppress(ConnectionError, RuntimeError):
            await ws.send_frame(data, WSMsgType.TEXT)


async def websocket(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(autoping=True)
    await ws.prepare(request)
    clients = request.app[CLIENTS]
    clients.add(ws)
    try:
        await ws.send_str("hello")
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                await _broadcast(request.app, message.data.encode())
    finally:
        clients.discard(ws)
    return ws


async def broadcast(request: web.Request) -> web.Response:
    await _broadcast(request.app, await request.read())
    return web.Response(status=202)


def make_app() -> web.Application:
    app = web.Application()
    app[CLIENTS] = set()
    app.router.add_get("/ws", websocket)
    app.router.add_post("/broadcast", broadcast)
    return app


if __name__ == "__main__":
    from .serve import parse_port, serve

    serve(make_app(), parse_port(__doc__.splitlines()[0]))
