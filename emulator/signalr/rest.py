"""The data-plane REST API, v1 (``/api/v1/...``) and 2022-06-01 (``/api/...``).

docs/signalr-service.md, "REST API".

Every route but health needs a JWT signed with an access key whose ``aud`` is this URL (compared
leniently: no query, trailing slash or port). Routes are a table: (method, path, handler, status
for ``/api``, status for ``/api/v1``).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote, urlsplit

from aiohttp import web

from ..contracts.messages import Invocation
from ..contracts.tokens import (
    client_audience,
    issue_token,
    rest_audience_matches,
    verify_token,
)
from ..errors import AuthError, InvalidToken, NotFound, SignalRError
from .appkeys import SERVICE_KEY
from .auth import bearer_token
from .log import rest_log
from .protocol.connection import CloseReason
from .protocol.negotiate import lowered_query
from .protocol.payload import (
    check_connection_id,
    check_group,
    check_hub,
    check_user,
    parse_payload,
    parse_ttl,
)
from .sender import fan_out
from .service import SignalRService
from .session import Session

__all__ = ["MAX_BODY_SIZE", "ROUTES", "rest_routes"]

MAX_BODY_SIZE = 1024 * 1024
"""REST bodies are at most 1 MB (docs/signalr-service.md, "Limits")."""

Handler = Callable[["RestCall"], Awaitable[Any]]


class RestCall:
    """One authenticated REST request, with its names checked."""

    def __init__(self, request: web.Request, service: SignalRService, legacy: bool) -> None:
        self.request = request
        self.service = service
        self.legacy = legacy
        self.query = lowered_query(request.query.items())
        info = request.match_info
        application = self.query.get("application", [None])[0]
        self.hub = check_hub(info["hub"], application) if "hub" in info else ""
        self.user = check_user(info["user"]) if "user" in info else ""
        self.group = check_group(info["group"]) if "group" in info else ""
        self.connection_id = check_connection_id(info["cid"]) if "cid" in info else ""

    @property
    def excluded(self) -> list[str]:
        return self.query.get("excluded", [])

    @property
    def reason(self) -> str | None:
        return self.query.get("reason", [None])[0]

    async def message(self) -> tuple[Invocation, dict[str, bytes]]:
        body = await self.request.read()
        return parse_payload(body, self.request.headers.get("Content-Type", ""))


def _authenticate(request: web.Request, service: SignalRService) -> None:
    raw_path = urlsplit(request.raw_path).path
    paths = {request.path, raw_path, unquote(raw_path)}
    try:
        verify_token(
            bearer_token(request), keys=service.config.access_keys, now=service.clock(),
            audience_ok=lambda aud: any(rest_audience_matches(aud, p) for p in paths),
        )
    except InvalidToken as exc:
        service.refusals.warning(rest_log, str(exc), "refused %s %s: %s", request.method,
                                 request.path, exc)
        raise AuthError(str(exc)) from None


# -- operations ---------------------------------------------------------------------------------

async def broadcast(call: RestCall) -> None:
    message, encoded = await call.message()
    service = call.service
    fan_out(service.state.connections(call.hub, excluded=call.excluded), message, encoded,
            refusals=call.service.refusals)


async def send_to_user(call: RestCall) -> None:
    message, encoded = await call.message()
    service = call.service
    fan_out(service.state.user_connections(call.hub, call.user), message, encoded,
            refusals=call.service.refusals)


async def send_to_connection(call: RestCall) -> None:
    message, encoded = await call.message()
    connection = call.service.state.get_connection(call.hub, call.connection_id)
    if connection is not None:
        fan_out([connection], message, encoded, refusals=call.service.refusals)


async def send_to_group(call: RestCall) -> None:
    message, encoded = await call.message()
    service = call.service
    fan_out(service.state.group_connections(call.hub, call.group, excluded=call.excluded),
            message, encoded, refusals=service.refusals)


def _close(sessions: list[Session], reason: str | None) -> None:
    for session in sessions:
        session.close(CloseReason.CLOSED_BY_SERVER, reason, allow_reconnect=True)


async def close_all(call: RestCall) -> None:
    _close(call.service.state.connections(call.hub, excluded=call.excluded), call.reason)


async def close_group(call: RestCall) -> None:
    _close(call.service.state.group_connections(call.hub, call.group, excluded=call.excluded),
           call.reason)


async def close_user(call: RestCall) -> None:
    _close(call.service.state.user_connections(call.hub, call.user, excluded=call.excluded),
           call.reason)


async def close_connection(call: RestCall) -> None:
    connection = call.service.state.get_connection(call.hub, call.connection_id)
    if connection is not None:
        _close([connection], call.reason)


async def connection_exists(call: RestCall) -> None:
    if call.service.state.get_connection(call.hub, call.connection_id) is None:
        raise NotFound("connection does not exist", "Warning.Connection.NotExisted")


async def group_exists(call: RestCall) -> None:
    if not call.service.state.has_group(call.hub, call.group):
        raise NotFound("group has no connections", "Warning.Group.NotExisted")


async def user_exists(call: RestCall) -> None:
    if not call.service.state.has_user(call.hub, call.user):
        raise NotFound("user has no connections", "Warning.User.NotExisted")


async def add_connection_to_group(call: RestCall) -> None:
    if not call.service.state.add_to_group(call.hub, call.connection_id, call.group):
        raise NotFound("connection does not exist", "Error.Connection.NotExisted")


async def remove_connection_from_group(call: RestCall) -> None:
    if not call.service.state.remove_from_group(call.hub, call.connection_id, call.group):
        raise NotFound("connection is not in the group", "Warning.Connection.NotExisted")


async def remove_connection_from_all_groups(call: RestCall) -> None:
    call.service.state.remove_from_all_groups(call.hub, call.connection_id)


async def user_in_group(call: RestCall) -> None:
    if not call.service.state.user_in_group(call.hub, call.user, call.group,
                                            now=call.service.clock()):
        raise NotFound("user is not in the group", "Info.User.NotInGroup")


async def add_user_to_group(call: RestCall) -> None:
    ttl = parse_ttl(call.query.get("ttl", [None])[0])
    call.service.state.add_user_to_group(call.hub, call.user, call.group,
                                         now=call.service.clock(), ttl=ttl)


async def remove_user_from_group(call: RestCall) -> None:
    call.service.state.remove_user_from_group(call.hub, call.user, call.group)


async def remove_user_from_all_groups(call: RestCall) -> None:
    call.service.state.remove_user_from_all_groups(call.hub, call.user)


async def generate_token(call: RestCall) -> dict[str, str]:
    user_id = call.query.get("userid", [None])[0]
    minutes_text = call.query.get("minutestoexpire", ["60"])[0]
    minutes = parse_ttl(minutes_text) or 60
    host = call.request.url.host or "localhost"
    audience = client_audience(f"{call.request.url.scheme}://{host}", call.hub)
    service = call.service
    token = issue_token(audience=audience, key=service.config.primary_key, now=service.clock(),
                        lifetime=minutes * 60, user_id=user_id)
    return {"token": token}


# [^/]+ instead of aiohttp's default [^{}/]+: user ids, group names and connection ids may hold
# braces (a user named "{x}" must be reachable); each value is checked by payload.check_*.
H = "/hubs/{hub:[^/]+}"
C = H + "/connections/{cid:[^/]+}"
G = H + "/groups/{group:[^/]+}"
U = H + "/users/{user:[^/]+}"
ROUTES: list[tuple[str, str, Handler, int, int]] = [
    # method, path under /api or /api/v1, handler, status (2022-06-01), status (v1)
    ("POST", H, broadcast, 202, 202),
    ("POST", H + "/:send", broadcast, 202, 202),
    ("POST", U, send_to_user, 202, 202),
    ("POST", U + "/:send", send_to_user, 202, 202),
    ("POST", C, send_to_connection, 202, 202),
    ("POST", C + "/:send", send_to_connection, 202, 202),
    ("POST", G, send_to_group, 202, 202),
    ("POST", G + "/:send", send_to_group, 202, 202),
    ("POST", H + "/:closeConnections", close_all, 204, 204),
    ("POST", G + "/:closeConnections", close_group, 204, 204),
    ("POST", U + "/:closeConnections", close_user, 204, 204),
    ("DELETE", C, close_connection, 200, 202),
    ("HEAD", C, connection_exists, 200, 200),
    ("GET", C, connection_exists, 200, 200),
    ("HEAD", G, group_exists, 200, 200),
    ("GET", G, group_exists, 200, 200),
    ("HEAD", U, user_exists, 200, 200),
    ("GET", U, user_exists, 200, 200),
    ("PUT", G + "/connections/{cid:[^/]+}", add_connection_to_group, 200, 200),
    ("PUT", C + "/groups/{group:[^/]+}", add_connection_to_group, 200, 200),
    ("DELETE", G + "/connections/{cid:[^/]+}", remove_connection_from_group, 200, 200),
    ("DELETE", C + "/groups/{group:[^/]+}", remove_connection_from_group, 200, 200),
    ("DELETE", C + "/groups", remove_connection_from_all_groups, 200, 200),
    ("HEAD", U + "/groups/{group:[^/]+}", user_in_group, 200, 200),
    ("GET", U + "/groups/{group:[^/]+}", user_in_group, 200, 200),
    ("HEAD", G + "/users/{user:[^/]+}", user_in_group, 200, 200),
    ("GET", G + "/users/{user:[^/]+}", user_in_group, 200, 200),
    ("PUT", U + "/groups/{group:[^/]+}", add_user_to_group, 200, 202),
    ("PUT", G + "/users/{user:[^/]+}", add_user_to_group, 200, 202),
    ("DELETE", U + "/groups/{group:[^/]+}", remove_user_from_group, 204, 202),
    ("DELETE", G + "/users/{user:[^/]+}", remove_user_from_group, 204, 202),
    ("DELETE", U + "/groups", remove_user_from_all_groups, 204, 200),
    ("POST", H + "/:generateToken", generate_token, 200, 200),
]


def _endpoint(handler: Handler, status: int, legacy: bool) -> Callable[[web.Request], Any]:
    async def endpoint(request: web.Request) -> web.StreamResponse:
        service = request.app[SERVICE_KEY]
        started = time.perf_counter()
        outcome = "error"
        try:
            _authenticate(request, service)
            result = await handler(RestCall(request, service, legacy))
            outcome = str(status)
            if result is not None:
                return web.json_response(result, status=status)
            return web.Response(status=status)
        except SignalRError as exc:
            outcome = str(exc.status_hint)
            raise
        except web.HTTPException as exc:
            outcome = str(exc.status)
            raise
        finally:
            rest_log.info("%s %s -> %s in %.1f ms", request.method, request.path, outcome,
                          (time.perf_counter() - started) * 1000)

    return endpoint


async def health(request: web.Request) -> web.Response:
    return web.Response(status=200)


def rest_routes() -> list[web.RouteDef]:
    routes: list[web.RouteDef] = []
    for prefix in ("/api/health", "/api/v1/health"):
        routes += [web.get(prefix, health, allow_head=False), web.head(prefix, health)]
    for method, path, handler, status, legacy_status in ROUTES:
        routes.append(web.route(method, "/api" + path, _endpoint(handler, status, False)))
        routes.append(web.route(method, "/api/v1" + path,
                                _endpoint(handler, legacy_status, True)))
    return routes
