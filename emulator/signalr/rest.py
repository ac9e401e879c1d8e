"""The data-plane REST API: v1 (``/api/v1/...``) and the dated versions up to 2024-12-01
(``/api/...``).

docs/serverless-contracts.md, "REST API".

Every route but health needs a JWT signed with an access key whose ``aud`` is this URL (compared
leniently: no query, trailing slash or port). Routes are a table of :class:`Route` rows: method,
path, handler, status under ``/api``, status under ``/api/v1`` (None: not served there) and the
first dated version whose spec has the route. The operations of 2024-12-01 that are not
implemented answer 501 with an ``ErrorDetail`` naming what is missing; the service's README lists
them.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple
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
from .log import printable, rest_log
from .protocol.connection import CloseReason
from .protocol.negotiate import lowered_query
from .protocol.paging import parse_page_request
from .protocol.payload import (
    LATEST_REST_VERSION,
    check_api_version,
    check_connection_id,
    check_group,
    check_hub,
    check_stream_id,
    check_user,
    parse_minutes_to_expire,
    parse_payload,
    parse_ttl,
)
from .sender import fan_out
from .service import SignalRService
from .session import Session

__all__ = ["MAX_BODY_SIZE", "ROUTES", "Route", "rest_routes"]

MAX_BODY_SIZE = 1024 * 1024
"""REST bodies are at most 1 MB (docs/serverless-contracts.md, "Limits")."""

Handler = Callable[["RestCall"], Awaitable[Any]]


class RestCall:
    """One authenticated REST request, with its api-version and names checked."""

    def __init__(self, request: web.Request, service: SignalRService, legacy: bool,
                 since: str) -> None:
        self.request = request
        self.service = service
        self.legacy = legacy
        self.query = lowered_query(request.query.items())
        self.api_version: str | None = self.query.get("api-version", [None])[0]
        if not legacy:
            check_api_version(self.api_version, since)
        info = request.match_info
        application = self.query.get("application", [None])[0]
        self.hub = check_hub(info["hub"], application) if "hub" in info else ""
        self.user = check_user(info["user"]) if "user" in info else ""
        self.group = check_group(info["group"]) if "group" in info else ""
        self.connection_id = check_connection_id(info["cid"]) if "cid" in info else ""
        self.stream_id = check_stream_id(info["stream"]) if "stream" in info else ""

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
            verified=service.rest_tokens,
        )
    except InvalidToken as exc:
        service.refusals.warning(rest_log, str(exc), "refused %s %s: %s", request.method,
                                 printable(request.path), printable(exc))
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
    minutes = parse_minutes_to_expire(call.query.get("minutestoexpire", [None])[0])
    host = call.request.url.host or "localhost"
    audience = client_audience(f"{call.request.url.scheme}://{host}", call.hub)
    service = call.service
    token = issue_token(audience=audience, key=service.config.primary_key, now=service.clock(),
                        lifetime=minutes * 60, user_id=user_id)
    return {"token": token}


async def list_group_connections(call: RestCall) -> dict[str, Any]:
    """One page of ``GroupMemberPagedValues``; an empty or unknown group is an empty page
    (docs/serverless-contracts.md, "Listing a group's connections")."""
    page = parse_page_request(call.query)
    members, more = call.service.state.group_members(
        call.hub, call.group, after=page.continuation_token, limit=page.limit)
    body: dict[str, Any] = {"value": [_group_member(c) for c in members]}
    follow = page.next_query(members[-1].connection_id, len(members)) if more else None
    if follow is not None:
        application = call.query.get("application")
        if application:
            follow["application"] = application[0]
        follow["api-version"] = call.api_version or LATEST_REST_VERSION
        body["nextLink"] = str(call.request.url.with_query(follow))
    return body


def _group_member(session: Session) -> dict[str, str]:
    member = {"connectionId": session.connection_id}
    if session.user_id:
        member["userId"] = session.user_id
    return member


def not_implemented(operation: str, missing: str) -> Handler:
    """A 501 ``ErrorDetail`` naming the spec's operation and what the local service lacks."""
    async def answer(call: RestCall) -> dict[str, str]:
        return {
            "code": "NotImplemented",
            "message": f"{operation} is not implemented by the local SignalR Service: {missing} "
                       "(emulator/signalr/README.md, \"Not implemented\").",
            "target": operation,
        }

    return answer


class Route(NamedTuple):
    method: str
    path: str
    """Under ``/api``, and under ``/api/v1`` when ``legacy_status`` is set."""
    handler: Handler
    status: int
    """The answer under ``/api`` (2022-06-01 and later)."""
    legacy_status: int | None = None
    """The answer under ``/api/v1``; None: the route is not served there."""
    since: str = "2022-06-01"
    """The first dated version whose spec has the route; an older ``api-version`` is a 400."""


# [^/]+ instead of aiohttp's default [^{}/]+: user ids, group names and connection ids may hold
# braces (a user named "{x}" must be reachable); each value is checked by payload.check_*.
H = "/hubs/{hub:[^/]+}"
C = H + "/connections/{cid:[^/]+}"
G = H + "/groups/{group:[^/]+}"
U = H + "/users/{user:[^/]+}"
S = C + "/streams/{stream:[^/]+}"
V2023, V2024 = "2023-07-01", "2024-12-01"
ROUTES: list[Route] = [
    Route("POST", H, broadcast, 202, 202),
    Route("POST", H + "/:send", broadcast, 202, 202),
    Route("POST", U, send_to_user, 202, 202),
    Route("POST", U + "/:send", send_to_user, 202, 202),
    Route("POST", C, send_to_connection, 202, 202),
    Route("POST", C + "/:send", send_to_connection, 202, 202),
    Route("POST", G, send_to_group, 202, 202),
    Route("POST", G + "/:send", send_to_group, 202, 202),
    Route("POST", H + "/:closeConnections", close_all, 204, 204),
    Route("POST", G + "/:closeConnections", close_group, 204, 204),
    Route("POST", U + "/:closeConnections", close_user, 204, 204),
    Route("DELETE", C, close_connection, 200, 202),
    Route("HEAD", C, connection_exists, 200, 200),
    Route("GET", C, connection_exists, 200, 200),
    Route("HEAD", G, group_exists, 200, 200),
    Route("GET", G, group_exists, 200, 200),
    Route("HEAD", U, user_exists, 200, 200),
    Route("GET", U, user_exists, 200, 200),
    Route("PUT", G + "/connections/{cid:[^/]+}", add_connection_to_group, 200, 200),
    Route("PUT", C + "/groups/{group:[^/]+}", add_connection_to_group, 200, 200),
    Route("DELETE", G + "/connections/{cid:[^/]+}", remove_connection_from_group, 200, 200),
    Route("DELETE", C + "/groups/{group:[^/]+}", remove_connection_from_group, 200, 200),
    Route("DELETE", C + "/groups", remove_connection_from_all_groups, 200, 200),
    Route("HEAD", U + "/groups/{group:[^/]+}", user_in_group, 200, 200),
    Route("GET", U + "/groups/{group:[^/]+}", user_in_group, 200, 200),
    Route("HEAD", G + "/users/{user:[^/]+}", user_in_group, 200, 200),
    Route("GET", G + "/users/{user:[^/]+}", user_in_group, 200, 200),
    Route("PUT", U + "/groups/{group:[^/]+}", add_user_to_group, 200, 202),
    Route("PUT", G + "/users/{user:[^/]+}", add_user_to_group, 200, 202),
    Route("DELETE", U + "/groups/{group:[^/]+}", remove_user_from_group, 204, 202),
    Route("DELETE", G + "/users/{user:[^/]+}", remove_user_from_group, 204, 202),
    Route("DELETE", U + "/groups", remove_user_from_all_groups, 204, 200),
    Route("POST", H + "/:generateToken", generate_token, 200, 200, V2023),
    Route("GET", G + "/connections", list_group_connections, 200, None, V2024),
    # What 2024-12-01 has and the local service does not (its README, "Not implemented"):
    Route("GET", "/auth/accessKey", not_implemented(
        "Auth_GetAccessKey", "access keys for identity-based connection strings (Microsoft "
        "Entra ID); use a connection string with an AccessKey"), 501, None, V2023),
    Route("POST", H + "/:execute", not_implemented(
        "HubProxyV20230701_Execute", "commands run together on the connections an OData "
        "filter selects"), 501, None, V2023),
    Route("POST", C + "/:invoke", not_implemented(
        "HubProxyV20241201_InvokeClientConnection", "invocations that wait for the client's "
        "result"), 501, None, V2024),
    Route("POST", S + "/:send", not_implemented(
        "HubProxyV20241201_SendToConnectionStream", "items for a client's stream invocation "
        "(clients' stream invocations get an error completion here)"), 501, None, V2024),
    Route("POST", S + "/:complete", not_implemented(
        "HubProxyV20241201_CompleteConnectionStream", "completing a client's stream invocation "
        "(clients' stream invocations get an error completion here)"), 501, None, V2024),
]


def _endpoint(route: Route, legacy: bool) -> Callable[[web.Request], Any]:
    handler = route.handler
    status = route.legacy_status if legacy and route.legacy_status else route.status

    async def endpoint(request: web.Request) -> web.StreamResponse:
        service = request.app[SERVICE_KEY]
        started = time.perf_counter()
        outcome = "error"
        try:
            _authenticate(request, service)
            result = await handler(RestCall(request, service, legacy, route.since))
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
            rest_log.info("%s %s -> %s in %.1f ms", request.method, printable(request.path),
                          outcome, (time.perf_counter() - started) * 1000)

    return endpoint


async def health(request: web.Request) -> web.Response:
    return web.Response(status=200)


def rest_routes() -> list[web.RouteDef]:
    routes: list[web.RouteDef] = []
    for prefix in ("/api/health", "/api/v1/health"):
        routes += [web.get(prefix, health, allow_head=False), web.head(prefix, health)]
    for route in ROUTES:
        routes.append(web.route(route.method, "/api" + route.path, _endpoint(route, False)))
        if route.legacy_status is not None:
            routes.append(web.route(route.method, "/api/v1" + route.path,
                                    _endpoint(route, True)))
    return routes
