"""Client endpoints: ``POST /client/negotiate`` and ``/client/``.

docs/client-protocol.md, "Negotiate" and "Transports".
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import Any

from aiohttp import web

from ..contracts.tokens import user_id_from_claims
from ..errors import BadRequest, Conflict, Forbidden, NotFound
from .appkeys import SERVICE_KEY
from .auth import check_client_token, decoded_query, query_items
from .log import log
from .middlewares import error_response, mapping_errors, started_by
from .protocol.negotiate import (
    build_negotiate_response,
    lowered_query,
    negotiate_version,
    single_query_value,
)
from .protocol.payload import HUB_NAME
from .service import SignalRService
from .transports import (
    handle_delete,
    handle_poll,
    handle_post,
    handle_sse,
    handle_websocket,
    start_long_polling,
)

__all__ = ["SERVICE_KEY", "TRANSPORTS", "client_routes", "hub_from_query"]

TRANSPORTS: tuple[str, ...] = ("WebSockets", "ServerSentEvents", "LongPolling")
"""What ``availableTransports`` lists, in preference order: only what is implemented."""


def hub_from_query(query: dict[str, list[str]]) -> str:
    hub = single_query_value(query, "hub")
    if hub is None:
        raise BadRequest("the 'hub' query parameter is required")
    if not HUB_NAME.match(hub):
        raise BadRequest("invalid hub name")
    return hub


def _refuse_while_stopping(service: SignalRService) -> None:
    """503 once shutdown has begun: a client told "reconnect" must not land on the service
    that is going away, but retry until the next one listens."""
    if service.stopping:
        raise web.HTTPServiceUnavailable(text="The service is shutting down.")


async def negotiate(request: web.Request) -> web.Response:
    service = request.app[SERVICE_KEY]
    _refuse_while_stopping(service)
    query = lowered_query(query_items(request))
    hub = hub_from_query(query)
    claims = check_client_token(request, hub, service.config.access_keys, service.clock(),
                                service.refusals)
    version = negotiate_version(query)
    stateful = (single_query_value(query, "usestatefulreconnect") or "").lower() == "true"
    entry = service.negotiate(hub, version=version, stateful=stateful,
                              user_id=user_id_from_claims(claims))
    log.info("negotiate on hub %s: connection %s (v%d)", hub, entry.connection_id, version)
    return web.json_response(build_negotiate_response(
        connection_id=entry.connection_id, connection_token=entry.connection_token,
        version=version, transports=TRANSPORTS, stateful_reconnect=stateful,
    ))


def _start(request: web.Request) -> Awaitable[web.StreamResponse]:
    """``/client/?hub=&id=``: WebSocket upgrade, SSE GET, long-poll GET, POST send, DELETE.

    The checks run here, in a plain function, and the awaitable it returns maps its own errors:
    no frame of ours but the transport's lives as long as a WebSocket (benchmarks/RESULTS.md,
    "Memory per connection"). An error of the checks is answered at once."""
    try:
        return _transport_for(request)
    except Exception as exc:
        return _ready(error_response(request, exc))


connect = started_by(_start)


def _transport_for(request: web.Request) -> Awaitable[web.StreamResponse]:
    """Check the request and pick its transport; raises before anything is awaited."""
    service = request.app[SERVICE_KEY]
    if request.headers.get("Upgrade", "").lower() == "websocket":
        _refuse_while_stopping(service)
    query = lowered_query(query_items(request))
    hub = hub_from_query(query)
    token = single_query_value(query, "id")
    claims = check_client_token(request, hub, service.config.access_keys, service.clock(),
                                service.refusals)
    if request.headers.get("Upgrade", "").lower() == "websocket":
        if request.method != "GET":
            raise BadRequest("a WebSocket upgrade must be a GET")
        existing = service.registry.get(token)
        if existing is not None:
            _check_owner(existing.user_id, claims)
        if (existing is not None and existing.core.buffer is not None
                and existing.hub.lower() == hub.lower() and not existing.is_finished
                and (existing.attachment is None or existing.attachment.is_gone())):
            # Stateful reconnect: the same id on a new socket, once the old one is gone.
            return handle_websocket(request, service, existing, reattach=True)
        pending = service.claim(token, hub, claims) if token is not None else None
        session = service.open_session(
            hub=hub, transport="WebSockets", claims=claims, client_query=decoded_query(request),
            pending=pending,
        )
        return handle_websocket(request, service, session)  # maps its own errors
    return mapping_errors(request, _http_transport(request, service, hub, token, claims))


def _http_transport(request: web.Request, service: SignalRService, hub: str, token: str | None,
                    claims: dict[str, Any]) -> Awaitable[web.StreamResponse]:
    """SSE, long polling, a send or a DELETE; raises before anything is awaited."""
    if token is None:
        raise BadRequest("the 'id' query parameter is required")
    active = service.registry.get(token)
    if active is not None:
        if active.hub.lower() != hub.lower():
            raise NotFound("no connection with this id in this hub")
        _check_owner(active.user_id, claims)
    method = request.method
    if method == "GET":
        if "text/event-stream" in request.headers.get("Accept", ""):
            if active is not None:
                raise Conflict("a transport is already attached to this connection")
            session = service.open_session(
                hub=hub, transport="ServerSentEvents", claims=claims,
                client_query=decoded_query(request), pending=service.claim(token, hub, claims),
                transfer_formats=("Text",),
            )
            return handle_sse(request, service, session)
        if active is None:
            session = service.open_session(
                hub=hub, transport="LongPolling", claims=claims,
                client_query=decoded_query(request), pending=service.claim(token, hub, claims),
            )
            return _ready(start_long_polling(session))
        if active.transport != "LongPolling":
            raise Conflict("a transport is already attached to this connection")
        return handle_poll(request, service, active)
    if active is None or active.is_finished:
        raise NotFound("no connection with this id (unknown, expired or closed)")
    if method == "POST":
        return handle_post(request, service, active)
    if method == "DELETE":
        return handle_delete(service, active)
    raise web.HTTPMethodNotAllowed(method, ["GET", "POST", "DELETE"])


async def _ready(response: web.StreamResponse) -> web.StreamResponse:
    """A response made at once, as the awaitable the other transports return."""
    return response


def _check_owner(owner: str | None, claims: Mapping[str, Any]) -> None:
    """A connection belongs to the user whose token opened it: every later request on it (a
    poll, a send, a DELETE, a reattach) must carry a token for that same user. ASP.NET Core
    only logs a changed user; here the id may be public (negotiate version 0), so it is 403."""
    if user_id_from_claims(claims) != owner:
        raise Forbidden("this connection belongs to another user")


def client_routes() -> list[web.RouteDef]:
    return [
        web.post("/client/negotiate", negotiate),
        web.post("/client/negotiate/", negotiate),
        web.route("*", "/client/", connect),
        web.route("*", "/client", connect),
    ]
