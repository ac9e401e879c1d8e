"""``make_app(config)``: the local Azure SignalR Service as an aiohttp Application.

Run it with ``AppRunner`` + ``SockSite``/``TCPSite``. On shutdown every client gets a Close
message and its transport is closed, connection tasks are cancelled, and the upstream
ClientSession is closed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from .client_api import SERVICE_KEY, client_routes
from .config import ServiceConfig
from .log import log
from .middlewares import add_cors_headers, cors_middleware, error_middleware
from .rest import MAX_BODY_SIZE, rest_routes
from .service import SignalRService

__all__ = ["SERVICE_KEY", "make_app"]


def make_app(config: ServiceConfig, *, service: SignalRService | None = None) -> web.Application:
    app = web.Application(
        middlewares=[cors_middleware, error_middleware], client_max_size=MAX_BODY_SIZE
    )
    app[SERVICE_KEY] = service or SignalRService(config)
    app.add_routes(client_routes())
    app.add_routes(rest_routes())
    app.on_response_prepare.append(add_cors_headers)
    app.cleanup_ctx.append(_upstream_session)
    app.on_shutdown.append(_close_connections)
    return app


async def _upstream_session(app: web.Application) -> AsyncIterator[None]:
    service = app[SERVICE_KEY]
    await service.upstream.start()
    log.info("SignalR service ready (%d upstream template(s))", len(service.config.upstream))
    yield
    await service.upstream.close()


async def _close_connections(app: web.Application) -> None:
    await app[SERVICE_KEY].shutdown()
