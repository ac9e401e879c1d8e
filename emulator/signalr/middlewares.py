"""Error mapping and CORS for every route of the service.

Errors: the one place that turns a ``SignalRError`` into a response (``status_hint``, a short
JSON body ``{"code", "message"}``, ``x-ms-error-code`` on not-found). Anything unexpected is a
500 without details, logged with its traceback.

Origins (:mod:`emulator.origins`): a browser request from an origin the configuration does not
allow gets 403 on every route, WebSocket upgrades included, before any token is looked at. For
allowed origins a page connects with credentials, so the origin is echoed (never ``*``),
credentials are allowed, requested headers are echoed, and preflights are answered before any
authentication (docs/client-protocol.md, "CORS").
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from ..errors import EmulatorError, NotFound
from .appkeys import SERVICE_KEY
from .log import log, printable
from .service import SignalRService

__all__ = ["add_cors_headers", "cors_middleware", "error_middleware", "error_response",
           "mapping_errors", "started_by"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ALLOWED_METHODS = "GET, POST, PUT, DELETE, HEAD, OPTIONS"


def _error_response(status: int, message: str, error_code: str | None = None) -> web.Response:
    response = web.json_response({"code": error_code or str(status), "message": message},
                                 status=status)
    if error_code:
        response.headers["x-ms-error-code"] = error_code
    return response


Starter = Callable[[web.Request], Awaitable[web.StreamResponse]]


def started_by(start: Starter) -> Handler:
    """A route handler that calls ``start``: a plain function that checks the request and
    returns the awaitable serving it, which maps its own errors (:func:`error_response`). The
    error middleware calls ``start`` itself, so no frame of the handler's lives beside that
    awaitable: the client endpoint's lives as long as its WebSocket, and that frame was a fifth
    of a kilobyte per idle connection (benchmarks/RESULTS.md, "Memory per connection")."""

    async def handler(request: web.Request) -> web.StreamResponse:
        return await start(request)

    handler.start_request = start  # type: ignore[attr-defined]
    return handler


@web.middleware
def error_middleware(request: web.Request, handler: Handler) -> Awaitable[web.StreamResponse]:
    start: Starter | None = getattr(handler, "start_request", None)
    if start is not None:
        return start(request)
    return mapping_errors(request, handler(request))  # handlers are coroutines: nothing ran yet


async def mapping_errors(request: web.Request,
                         serving: Awaitable[web.StreamResponse]) -> web.StreamResponse:
    """``serving``, its errors turned into responses (:func:`error_response`)."""
    try:
        return await serving
    except Exception as exc:
        return error_response(request, exc)


def error_response(request: web.Request, exc: Exception) -> web.StreamResponse:
    """The response for an error a handler raised; an ``HTTPException`` is raised again (aiohttp
    answers it)."""
    if isinstance(exc, EmulatorError):  # the service's own, and those both servers share
        if exc.status_hint >= 500:
            log.error("%s %s failed: %s", request.method, printable(request.path),
                      printable(exc))
        code = exc.error_code if isinstance(exc, NotFound) else None
        return _error_response(exc.status_hint, str(exc), code)
    if isinstance(exc, web.HTTPException):
        raise exc
    log.error("unexpected error in %s %s", request.method, request.path, exc_info=exc)
    return _error_response(500, "Internal server error.")


@web.middleware
def cors_middleware(request: web.Request, handler: Handler) -> Awaitable[web.StreamResponse]:
    """Browser requests from origins that are not allowed get 403 before any handler runs;
    preflights of allowed origins are answered here. Anything else is the handler's own
    awaitable, with no frame of ours around it (a WebSocket's handler lives as long as the
    socket)."""
    service = request.app[SERVICE_KEY]
    origin = request.headers.get("Origin")
    if not service.config.origin_policy.allows(origin, request.headers.get("Sec-Fetch-Site")):
        return _refuse_origin(request, service, origin)
    if (
        request.method == "OPTIONS"
        and origin is not None
        and "Access-Control-Request-Method" in request.headers
    ):
        return _preflight(request)
    return handler(request)


async def _refuse_origin(request: web.Request, service: SignalRService,
                         origin: str | None) -> web.StreamResponse:
    shown = printable(origin or "(none)")
    service.refusals.warning(log, f"origin:{shown}", "refused %s %s from origin %s: not allowed",
                             request.method, printable(request.path), shown)
    return _error_response(403, "This origin may not use the service; start the stack with "
                                "--allow-origin to allow it.")


async def _preflight(request: web.Request) -> web.StreamResponse:
    response = web.Response(status=204)
    requested = request.headers.get("Access-Control-Request-Headers")
    if requested:
        response.headers["Access-Control-Allow-Headers"] = requested
    response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
    response.headers["Access-Control-Max-Age"] = "600"
    return response


async def add_cors_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: runs for every response, streamed or raised, before headers go."""
    origin = request.headers.get("Origin")
    if origin is None or response.status == 101:
        return
    if not request.app[SERVICE_KEY].config.origin_policy.allows_origin(origin):
        return
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Allow-Credentials"] = "true"
    response.headers["Access-Control-Expose-Headers"] = "x-ms-error-code"
    vary = response.headers.get("Vary")
    if vary is None:
        response.headers["Vary"] = "Origin"
    elif "origin" not in vary.lower():
        response.headers["Vary"] = vary + ", Origin"
