"""A python-socketio chat server, written the way its documentation shows.

``broadcast`` events are re-emitted to everyone as ``newMessage`` (``await sio.emit(...)``, the
documented broadcast). ``POST /broadcast`` emits the posted text the same way (the REST
scenario's counterpart). Only the WebSocket transport is used by the generator.
"""

from __future__ import annotations

import socketio
from aiohttp import web

__all__ = ["make_app"]


def make_app() -> web.Application:
    sio = socketio.AsyncServer(async_mode="aiohttp")
    app = web.Application()
    sio.attach(app)

    @sio.event
    async def broadcast(sid: str, data: object) -> None:
        await sio.emit("newMessage", data)

    async def post_broadcast(request: web.Request) -> web.Response:
        await sio.emit("newMessage", {"text": (await request.read()).decode()})
        return web.Response(status=202)

    app.router.add_post("/broadcast", post_broadcast)
    return app


if __name__ == "__main__":
    from .serve import parse_port, serve

    serve(make_app(), parse_port(__doc__.splitlines()[0]))
