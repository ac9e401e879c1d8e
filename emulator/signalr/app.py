"""``make_app(config)``: the local Azure SignalR Service as an aiohttp Application.

Shutdown, in the order the app owns:

1. ``on_shutdown``: new clients get 503; every client gets a Close (reconnect allowed) and its
   transport ends (bounded); each registered connection's ``disconnected`` event goes upstream,
   and those calls are waited for (bounded).
2. cleanup: every task of the service is ended, then the upstream ClientSession is closed.

With a plain ``runner.cleanup()`` aiohttp has stopped listening and closed idle keep-alive
connections before step 1, so functions that answer a ``disconnected`` event by calling the
REST API fail at once (nobody is connected any more to receive what they send).
:func:`emulator.serve.stop_runner` (re-exported here) runs step 1 while the service still
listens, so those calls succeed; the command-line entry points stop that way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from ..serve import stop_runner
from .appkeys import SERVICE_KEY
from .client_api import client_routes
from .config import ServiceConfig
from .log import log
from .middlewares import add_cors_headers, cors_middleware, error_middleware
from .rest import MAX_BODY_SIZE, rest_routes
from .service import SHUTDOWN_TIMEOUT, SignalRService

__all__ = ["SERVICE_KEY", "make_app", "stop_runner"]


def make_app(config: ServiceConfig, *, service: SignalRService | None = None) -> web.Application:
    app = web.Application(
        middlewares=[cors_middleware, error_middleware], client_max_size=MAX_BODY_SIZE
    )
    app[SERVICE_KEY] = service or SignalRService(config)
    app.add_routes(client_routes())
    app.add_routes(rest_routes())
    app.on_response_prepare.append(add_cors_headers)
    app.cleanup_ctx.append(_lifetime)
    app.on_shutdown.append(_close_clients)
    return app


async def _lifetime(app: web.Application) -> AsyncIterator[None]:
    service = app[SERVICE_KEY]
    await service.dispatcher.start()
    log.info("SignalR service ready (%d upstream template(s))", len(service.config.upstream))
    yield
    await service.stop()
    await service.dispatcher.close()


async def _close_clients(app: web.Application) -> None:
    service = app[SERVICE_KEY]
    if not service.stopping:
        await service.close_all()
        await service.dispatcher.wait_disconnects(SHUTDOWN_TIMEOUT)
