# mypy: disable-error-code="untyped-decorator"
# (the durable decorators of azure-functions return Any: azure-functions-durable has no types)
"""Bidirectional chat: Azure Functions (Python v2) + Azure SignalR Service in Serverless mode.

Clients invoke hub methods on the service; the service calls these functions upstream
(``/runtime/webhooks/signalr``); the functions answer through the SignalR output binding. State
lives in Durable entities: ``ChatRoom`` (history), ``Presence`` (one per user), ``Roster`` (who is
online) and ``Group`` (docs/chat-app.md).

Every binding name is camelCase (the host refuses underscores), every SignalR value crosses the
binding boundary as a JSON ``str``, entity functions are plain ``def`` with a ``context``
parameter and durable-client functions are ``async def``, so this file runs unchanged on Azure.
Each handler reads its bindings, asks ``chat`` for a decision and carries it out (``chat_io``); a
``ChatError`` becomes the caller's ``invoke()`` error and sends nothing.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import azure.durable_functions as df
import azure.functions as func
import jinja2

from chat import (
    ChatError,
    PageSettings,
    content_security_policy,
    groups,
    history,
    parse_invocation,
    presence,
    roster,
    service_origins,
    validate_user_name,
)
from chat_io import (
    CONNECTION,
    HUB,
    Entities,
    change_connection_group,
    change_user_group,
    close_connection,
    open_connection,
    reconcile_pass,
    send,
    send_message,
    settings,
    to_connection,
    to_everyone,
    to_group,
    to_user,
)

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

CONTENT = Path(__file__).parent / "content"
# Served from the app when `make` has copied it there; otherwise the page uses the CDN copy.
LOCAL_CLIENT_LIBRARY = CONTENT / "vendor" / "signalr.min.js"
DEFAULT_CLIENT_LIBRARY_URL = (
    "https://cdn.jsdelivr.net/npm/@microsoft/signalr@10.0.11/dist/browser/signalr.min.js"
)
ASSETS = {
    "app.js": (CONTENT / "app.js", "text/javascript"),
    "conversation.js": (CONTENT / "conversation.js", "text/javascript"),
    "people.js": (CONTENT / "people.js", "text/javascript"),
    "app.css": (CONTENT / "app.css", "text/css"),
    "signalr.min.js": (LOCAL_CLIENT_LIBRARY, "text/javascript"),
}
PRINCIPAL_NAME = "x-ms-client-principal-name"
SIGNALR = {"hub_name": HUB, "connection_string_setting": CONNECTION, "connection": CONNECTION}
"""Both spellings: older SignalR extensions read connectionStringSetting, newer ones connection."""

log = logging.getLogger("chat")
# Loaded once per worker: the template never changes while the app runs.
_page = jinja2.Environment(loader=jinja2.FileSystemLoader(CONTENT), autoescape=True).get_template(
    "index.html"
)


def _hub_event(category: str, event: str, *parameters: str) -> dict[str, Any]:
    names = {"parameter_names": list(parameters)} if parameters else {}
    return {"type": "signalRTrigger", "category": category, "event": event, **names, **SIGNALR}


def _client_library_url() -> str:
    if LOCAL_CLIENT_LIBRARY.is_file():
        return "assets/signalr.min.js"
    return os.environ.get("SIGNALR_CLIENT_URL", DEFAULT_CLIENT_LIBRARY_URL)


# -- the page -------------------------------------------------------------------------------------


@app.route(route="index", methods=["GET"])
def index(req: func.HttpRequest) -> func.HttpResponse:
    """The chat page, with the client-library URL and the message limits filled in."""
    library, config = _client_library_url(), settings()
    page = PageSettings(
        client_library_url=library, max_message_length=config.max_message_length,
        max_message_bytes=config.max_message_bytes,
        app_service_auth=os.environ.get("WEBSITE_AUTH_ENABLED", "").lower() == "true")
    library_origin = (
        [] if library.startswith("assets/") else service_origins(f"Endpoint={library}")[:1]
    )
    policy = content_security_policy(
        connect_origins=service_origins(
            os.environ.get(CONNECTION), os.environ.get(f"{CONNECTION}__serviceUri")
        ),
        script_origins=library_origin,
    )
    return func.HttpResponse(
        _page.render(settings=page),
        mimetype="text/html",
        headers={"Content-Security-Policy": policy, "X-Content-Type-Options": "nosniff"},
    )


@app.route(route="assets/{name}", methods=["GET"])
def assets(req: func.HttpRequest) -> func.HttpResponse:
    """The page's scripts and style sheet, and the SignalR client library when bundled."""
    asset = ASSETS.get(req.route_params.get("name", ""))
    if asset is None or not asset[0].is_file():
        return func.HttpResponse("Not found.", status_code=404)
    path, mimetype = asset
    return func.HttpResponse(
        path.read_bytes(),
        mimetype=mimetype,
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


@app.route(route="negotiate", methods=["POST"])
@app.generic_input_binding(
    arg_name="connectionInfo",
    type="signalRConnectionInfo",
    # Set by App Service Authentication on Azure; in development the page sends the typed name.
    user_id="{headers.x-ms-client-principal-name}",
    **SIGNALR,
)
def negotiate(req: func.HttpRequest, connectionInfo: str) -> func.HttpResponse:
    """Where the client library starts: the service URL and an access token for this user."""
    if req.get_body():
        # The host makes a JSON body's fields binding data, and a field named "headers" takes
        # the place of the request's headers in the user id above (docs/chat-app.md, "Azure
        # Functions"). The client library negotiates with an empty body.
        return func.HttpResponse("negotiate takes no request body.", status_code=400)
    try:
        validate_user_name(req.headers.get(PRINCIPAL_NAME))
    except ChatError as error:
        return func.HttpResponse(str(error), status_code=error.status_hint)
    return func.HttpResponse(connectionInfo, mimetype="application/json")


# -- entities: each runs its module's table of operations on the stored JSON ------------------


def _run(context: df.DurableEntityContext, apply: Callable[[Any, str, Any], Any]) -> None:
    context.set_state(apply(context.get_state(lambda: None), context.operation_name,
                            context.get_input()))


@app.entity_trigger(context_name="context", entity_name="ChatRoom")
def chat_room(context: df.DurableEntityContext) -> None:
    """The room's last broadcasts, by count and bytes; ``append`` is idempotent by message id."""
    _run(context, functools.partial(history.apply_operation, limit=settings().history_size))


@app.entity_trigger(context_name="context", entity_name="Presence")
def presence_entity(context: df.DurableEntityContext) -> None:
    """One user's connections and groups (chat.presence)."""
    _run(context, presence.apply_operation)


@app.entity_trigger(context_name="context", entity_name="Roster")
def roster_entity(context: df.DurableEntityContext) -> None:
    """Who is online, newest version per user (chat.roster)."""
    _run(context, roster.apply_operation)


@app.entity_trigger(context_name="context", entity_name="Group")
def group_entity(context: df.DurableEntityContext) -> None:
    """The connections in one group (chat.groups)."""
    _run(context, groups.apply_operation)


# -- connection events ----------------------------------------------------------------------------


@app.generic_trigger(arg_name="invocation", **_hub_event("connections", "connected"))
@app.generic_output_binding(arg_name="signalRMessages", type="signalR", **SIGNALR)
@app.durable_client_input(client_name="client")
async def on_connected(
    invocation: str, signalRMessages: func.Out[str], client: df.DurableOrchestrationClient
) -> None:
    """History and the online list to the new connection; its arrival to everyone."""
    call = parse_invocation(invocation)
    log.info("connected: %s (user %s)", call.connection_id, call.user_id)
    _, unsent = await open_connection(call, Entities(client), announce=True)
    send(signalRMessages, unsent)


@app.generic_trigger(arg_name="invocation", **_hub_event("connections", "disconnected"))
@app.generic_output_binding(arg_name="signalRMessages", type="signalR", **SIGNALR)
@app.durable_client_input(client_name="client")
async def on_disconnected(
    invocation: str, signalRMessages: func.Out[str], client: df.DurableOrchestrationClient
) -> None:
    """``userLeft`` to everyone when the user's last connection closed, else the new count."""
    call = parse_invocation(invocation)
    log.info("disconnected: %s (user %s)", call.connection_id, call.user_id)
    await close_connection(call, Entities(client), signalRMessages)


# -- messages: checked, limited, then decided (chat.sending) ------------------------------------

@app.generic_trigger(arg_name="invocation", **_hub_event("messages", "broadcast"))
@app.generic_output_binding(arg_name="signalRMessages", type="signalR", **SIGNALR)
@app.durable_client_input(client_name="client")
async def broadcast(
    invocation: str, signalRMessages: func.Out[str], client: df.DurableOrchestrationClient
) -> str:
    """``broadcast(text, clientMessageId?)``: everyone receives ``newMessage``; history keeps it."""
    return await send_message(parse_invocation(invocation), Entities(client), signalRMessages,
                              to_everyone)


@app.generic_trigger(arg_name="invocation", **_hub_event("messages", "sendToGroup"))
@app.generic_output_binding(arg_name="signalRMessages", type="signalR", **SIGNALR)
@app.durable_client_input(client_name="client")
async def send_to_group(
    invocation: str, signalRMessages: func.Out[str], client: df.DurableOrchestrationClient
) -> str:
    """``sendToGroup(group, text, clientMessageId?)``: members only; the message has ``group``."""
    return await send_message(parse_invocation(invocation), Entities(client), signalRMessages,
                              to_group)


@app.generic_trigger(arg_name="invocation", **_hub_event("messages", "sendToUser"))
@app.generic_output_binding(arg_name="signalRMessages", type="signalR", **SIGNALR)
@app.durable_client_input(client_name="client")
async def send_to_user(
    invocation: str, signalRMessages: func.Out[str], client: df.DurableOrchestrationClient
) -> str:
    """``sendToUser(user, text, clientMessageId?)``: to all the user's connections and yours."""
    return await send_message(parse_invocation(invocation), Entities(client), signalRMessages,
                              to_user)


@app.generic_trigger(arg_name="invocation", **_hub_event("messages", "sendToConnection"))
@app.generic_output_binding(arg_name="signalRMessages", type="signalR", **SIGNALR)
@app.durable_client_input(client_name="client")
async def send_to_connection(
    invocation: str, signalRMessages: func.Out[str], client: df.DurableOrchestrationClient
) -> str:
    """``sendToConnection(connectionId, text, clientMessageId?)``: one connection, and yours."""
    return await send_message(parse_invocation(invocation), Entities(client), signalRMessages,
                              to_connection)


# -- groups: confirmed before the caller's invoke() completes (chat.membership) -----------------


@app.generic_trigger(
    arg_name="invocation", **_hub_event("messages", "joinGroup", "connectionId", "group")
)
@app.generic_output_binding(arg_name="signalRMessages", type="signalR", **SIGNALR)
@app.durable_client_input(client_name="client")
async def join_group(
    invocation: str, signalRMessages: func.Out[str], client: df.DurableOrchestrationClient
) -> str:
    """``joinGroup(connectionId, group)``: the caller's own connection, any one for admins."""
    return await change_connection_group(parse_invocation(invocation), Entities(client),
                                         signalRMessages, joining=True)


@app.generic_trigger(
    arg_name="invocation", **_hub_event("messages", "leaveGroup", "connectionId", "group")
)
@app.generic_output_binding(arg_name="signalRMessages", type="signalR", **SIGNALR)
@app.durable_client_input(client_name="client")
async def leave_group(
    invocation: str, signalRMessages: func.Out[str], client: df.DurableOrchestrationClient
) -> str:
    """``leaveGroup(connectionId, group)``: the caller's own connection, any one for admins."""
    return await change_connection_group(parse_invocation(invocation), Entities(client),
                                         signalRMessages, joining=False)


@app.generic_trigger(
    arg_name="invocation", **_hub_event("messages", "joinUserToGroup", "user", "group")
)
@app.generic_output_binding(arg_name="signalRMessages", type="signalR", **SIGNALR)
@app.durable_client_input(client_name="client")
async def join_user_to_group(
    invocation: str, signalRMessages: func.Out[str], client: df.DurableOrchestrationClient
) -> str:
    """``joinUserToGroup(user, group)``: oneself (all connections, now and later), or admins."""
    return await change_user_group(parse_invocation(invocation), Entities(client),
                                   signalRMessages, joining=True)


@app.generic_trigger(
    arg_name="invocation", **_hub_event("messages", "leaveUserFromGroup", "user", "group")
)
@app.generic_output_binding(arg_name="signalRMessages", type="signalR", **SIGNALR)
@app.durable_client_input(client_name="client")
async def leave_user_from_group(
    invocation: str, signalRMessages: func.Out[str], client: df.DurableOrchestrationClient
) -> str:
    """``leaveUserFromGroup(user, group)``: oneself, or anyone for admins."""
    return await change_user_group(parse_invocation(invocation), Entities(client),
                                   signalRMessages, joining=False)


# -- presence reconcile ---------------------------------------------------------------------------


@app.timer_trigger(arg_name="timer", schedule="%CHAT_RECONCILE_SCHEDULE%")
@app.generic_output_binding(arg_name="signalRMessages", type="signalR", **SIGNALR)
@app.durable_client_input(client_name="client")
async def reconcile(
    timer: func.TimerRequest, signalRMessages: func.Out[str], client: df.DurableOrchestrationClient
) -> None:
    """Presence converges on the connections the service has (chat.reconcile)."""
    await reconcile_pass(Entities(client), signalRMessages)
