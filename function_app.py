"""Bidirectional chat: Azure Functions (Python v2) + Azure SignalR Service in Serverless mode.

Clients invoke hub methods on the service; the service calls these functions upstream
(``/runtime/webhooks/signalr``); the functions answer through the SignalR output binding. Room
history and presence live in two Durable entities, ``ChatRoom`` and ``Presence``.

Every binding name is camelCase (the host refuses underscores), every SignalR value crosses the
binding boundary as a JSON ``str``, entity functions are plain ``def`` with a ``context``
parameter and durable-client functions are ``async def``, so this file runs unchanged on Azure
(functions-python.md §11). Each handler reads its bindings, asks ``chat`` what to do, and sets its
output binding; a ``ChatError`` becomes the caller's ``invoke()`` error and sends nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import azure.durable_functions as df
import azure.functions as func
import jinja2

from chat import (
    LOBBY,
    ChatError,
    GroupChange,
    Invocation,
    NotAllowed,
    PageSettings,
    Settings,
    append_message,
    broadcast_message,
    connected_outputs,
    connection_group_change,
    content_security_policy,
    disconnected_outputs,
    group_message,
    history,
    identities_are_verified,
    message_id,
    outputs,
    parse_invocation,
    presence,
    private_to_connection,
    private_to_user,
    service_origins,
    settings_from,
    user_group_change,
    validate_user_name,
    wait_for_state,
)

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

HUB = "chat"
CONNECTION = "AzureSignalRConnectionString"
CONTENT = Path(__file__).parent / "content"
# Served from the app when `make` has copied it there; otherwise the page uses the CDN copy.
LOCAL_CLIENT_LIBRARY = CONTENT / "vendor" / "signalr.min.js"
DEFAULT_CLIENT_LIBRARY_URL = (
    "https://cdn.jsdelivr.net/npm/@microsoft/signalr@10.0.11/dist/browser/signalr.min.js"
)
ASSETS = {
    "app.js": (CONTENT / "app.js", "text/javascript"),
    "app.css": (CONTENT / "app.css", "text/css"),
    "signalr.min.js": (LOCAL_CLIENT_LIBRARY, "text/javascript"),
}
PRINCIPAL_NAME = "x-ms-client-principal-name"
ROOM = df.EntityId("ChatRoom", LOBBY)
PRESENCE = df.EntityId("Presence", HUB)
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


def _settings() -> Settings:
    settings = settings_from(os.environ)
    if os.environ.get("CHAT_ADMINS", "").strip() and not identities_are_verified(os.environ):
        log.warning("CHAT_ADMINS is ignored: App Service Authentication is off, so anyone can "
                    "claim any name")
    return settings


def _stamp() -> dict[str, Any]:
    """A new message's id and server time."""
    now = time.time()
    return {"id": message_id(now, uuid.uuid4().hex), "now": now}


def _client_library_url() -> str:
    if LOCAL_CLIENT_LIBRARY.is_file():
        return "assets/signalr.min.js"
    return os.environ.get("SIGNALR_CLIENT_URL", DEFAULT_CLIENT_LIBRARY_URL)


def _send(out: func.Out[str], items: Sequence[dict[str, Any]]) -> None:
    value = outputs.encode(items)
    if value is not None:
        out.set(value)


@contextlib.contextmanager
def _refusals(call: Invocation) -> Iterator[None]:
    """Log a refused call (never its text) and let the error reach the caller."""
    try:
        yield
    except ChatError as error:
        level = logging.WARNING if isinstance(error, NotAllowed) else logging.INFO
        log.log(level, "refused %s from user %s (connection %s): %s: %s", call.event,
                call.user_id, call.connection_id, type(error).__name__, error)
        raise


async def _state(client: df.DurableOrchestrationClient, entity: df.EntityId) -> Any:
    """The entity's committed state, or None when it does not exist yet."""
    response = await client.read_entity_state(entity)
    return response.entity_state if response.entity_exists else None


async def _change_presence(
    client: df.DurableOrchestrationClient, operation: str, data: dict[str, Any],
    applied: Callable[[Any], bool],
) -> Any:
    """Signal ``Presence`` and read it back until the change shows (bounded; chat.confirm).

    Signals have no read-your-writes (durable-python.md §4). Waiting here means an ``invoke()``
    that completes has taken effect: a joined group accepts the caller's next ``sendToGroup``.
    """
    await client.signal_entity(PRESENCE, operation, data)
    done, state = await wait_for_state(lambda: _state(client, PRESENCE), applied, asyncio.sleep)
    if not done:
        log.warning("presence %s not visible within the wait; answering anyway", operation)
    return state


async def _change_group(
    client: df.DurableOrchestrationClient, change: GroupChange, out: func.Out[str], call: Invocation
) -> str:
    await _change_presence(client, change.operation, change.data, change.applied)
    _send(out, [change.item])
    log.info("%s by user %s: %s", change.operation, call.user_id, change.data)
    return change.group


async def _send_among_present(
    invocation: str, out: func.Out[str], client: df.DurableOrchestrationClient,
    rule: Callable[..., tuple[Any, Sequence[dict[str, Any]]]],
) -> str:
    """A message whose recipients (and the sender's right to send) depend on who is online."""
    call = parse_invocation(invocation)
    state = await _state(client, PRESENCE)
    with _refusals(call):
        message, items = rule(call, _settings(), state, **_stamp())
    _send(out, items)
    return message.id


async def _connection_group(
    invocation: str, out: func.Out[str], client: df.DurableOrchestrationClient, *, joining: bool
) -> str:
    call = parse_invocation(invocation)
    state = await _state(client, PRESENCE)
    with _refusals(call):
        change = connection_group_change(call, _settings(), state, joining=joining)
    return await _change_group(client, change, out, call)


async def _user_group(
    invocation: str, out: func.Out[str], client: df.DurableOrchestrationClient, *, joining: bool
) -> str:
    call = parse_invocation(invocation)
    with _refusals(call):
        change = user_group_change(call, _settings(), joining=joining)
    return await _change_group(client, change, out, call)


# -- the page -------------------------------------------------------------------------------------


@app.route(route="index", methods=["GET"])
def index(req: func.HttpRequest) -> func.HttpResponse:
    """The chat page, with the hub name and the client-library URL filled in."""
    library = _client_library_url()
    settings = PageSettings(hub=HUB, client_library_url=library)
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
        _page.render(settings=settings),
        mimetype="text/html",
        headers={"Content-Security-Policy": policy, "X-Content-Type-Options": "nosniff"},
    )


@app.route(route="assets/{name}", methods=["GET"])
def assets(req: func.HttpRequest) -> func.HttpResponse:
    """The page's script and style sheet, and the SignalR client library when bundled."""
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
    try:
        validate_user_name(req.headers.get(PRINCIPAL_NAME))
    except ChatError as error:
        return func.HttpResponse(str(error), status_code=400)
    return func.HttpResponse(connectionInfo, mimetype="application/json")


# -- entities -------------------------------------------------------------------------------------


@app.entity_trigger(context_name="context", entity_name="ChatRoom")
def chat_room(context: df.DurableEntityContext) -> None:
    """A room's last ``CHAT_HISTORY_SIZE`` broadcasts; ``append`` is idempotent by message id."""
    state = context.get_state(history.empty_history)
    if context.operation_name != "append":
        raise ValueError(f"ChatRoom has no operation {context.operation_name!r}")
    context.set_state(append_message(state, context.get_input(), _settings().history_size))


@app.entity_trigger(context_name="context", entity_name="Presence")
def presence_entity(context: df.DurableEntityContext) -> None:
    """Connections per user and group memberships, with set semantics (chat.presence)."""
    state = context.get_state(presence.empty_presence)
    context.set_state(
        presence.apply_operation(state, context.operation_name, context.get_input())
    )


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
    room = await _state(client, ROOM)
    state = await _change_presence(
        client, "connect", {"connectionId": call.connection_id, "user": call.user_id},
        lambda s: presence.connect_applied(s, call.connection_id),
    )
    _send(signalRMessages, connected_outputs(call, _settings(), state, room))


@app.generic_trigger(arg_name="invocation", **_hub_event("connections", "disconnected"))
@app.generic_output_binding(arg_name="signalRMessages", type="signalR", **SIGNALR)
@app.durable_client_input(client_name="client")
async def on_disconnected(
    invocation: str, signalRMessages: func.Out[str], client: df.DurableOrchestrationClient
) -> None:
    """``userLeft`` to everyone when the user's last connection closed."""
    call = parse_invocation(invocation)
    log.info("disconnected: %s (user %s)", call.connection_id, call.user_id)
    state = await _change_presence(
        client, "disconnect", {"connectionId": call.connection_id, "user": call.user_id},
        lambda s: presence.disconnect_applied(s, call.connection_id),
    )
    _send(signalRMessages, disconnected_outputs(call, state))


# -- messages -------------------------------------------------------------------------------------


@app.generic_trigger(arg_name="invocation", **_hub_event("messages", "broadcast", "text"))
@app.generic_output_binding(arg_name="signalRMessages", type="signalR", **SIGNALR)
@app.durable_client_input(client_name="client")
async def broadcast(
    invocation: str, signalRMessages: func.Out[str], client: df.DurableOrchestrationClient
) -> str:
    """``broadcast(text)``: everyone receives ``newMessage``; the room's history keeps it."""
    call = parse_invocation(invocation)
    with _refusals(call):
        message = broadcast_message(call, _settings(), **_stamp())
    # Not read back: only later connections read history, and clients de-duplicate by id.
    await client.signal_entity(ROOM, "append", message.to_payload())
    _send(signalRMessages, [outputs.to_all("newMessage", message.to_payload())])
    return message.id


@app.generic_trigger(
    arg_name="invocation", **_hub_event("messages", "sendToGroup", "group", "text")
)
@app.generic_output_binding(arg_name="signalRMessages", type="signalR", **SIGNALR)
@app.durable_client_input(client_name="client")
async def send_to_group(
    invocation: str, signalRMessages: func.Out[str], client: df.DurableOrchestrationClient
) -> str:
    """``sendToGroup(group, text)``: members only; the message carries ``group``."""
    return await _send_among_present(invocation, signalRMessages, client, group_message)


@app.generic_trigger(arg_name="invocation", **_hub_event("messages", "sendToUser", "user", "text"))
@app.generic_output_binding(arg_name="signalRMessages", type="signalR", **SIGNALR)
@app.durable_client_input(client_name="client")
async def send_to_user(
    invocation: str, signalRMessages: func.Out[str], client: df.DurableOrchestrationClient
) -> str:
    """``sendToUser(user, text)``: private, to all the user's connections and the sender's."""
    return await _send_among_present(invocation, signalRMessages, client, private_to_user)


@app.generic_trigger(
    arg_name="invocation", **_hub_event("messages", "sendToConnection", "connectionId", "text")
)
@app.generic_output_binding(arg_name="signalRMessages", type="signalR", **SIGNALR)
@app.durable_client_input(client_name="client")
async def send_to_connection(
    invocation: str, signalRMessages: func.Out[str], client: df.DurableOrchestrationClient
) -> str:
    """``sendToConnection(connectionId, text)``: private, to one connection and the sender's."""
    return await _send_among_present(invocation, signalRMessages, client, private_to_connection)


# -- groups ---------------------------------------------------------------------------------------


@app.generic_trigger(
    arg_name="invocation", **_hub_event("messages", "joinGroup", "connectionId", "group")
)
@app.generic_output_binding(arg_name="signalRMessages", type="signalR", **SIGNALR)
@app.durable_client_input(client_name="client")
async def join_group(
    invocation: str, signalRMessages: func.Out[str], client: df.DurableOrchestrationClient
) -> str:
    """``joinGroup(connectionId, group)``: the caller's own connection, any one for admins."""
    return await _connection_group(invocation, signalRMessages, client, joining=True)


@app.generic_trigger(
    arg_name="invocation", **_hub_event("messages", "leaveGroup", "connectionId", "group")
)
@app.generic_output_binding(arg_name="signalRMessages", type="signalR", **SIGNALR)
@app.durable_client_input(client_name="client")
async def leave_group(
    invocation: str, signalRMessages: func.Out[str], client: df.DurableOrchestrationClient
) -> str:
    """``leaveGroup(connectionId, group)``: the caller's own connection, any one for admins."""
    return await _connection_group(invocation, signalRMessages, client, joining=False)


@app.generic_trigger(
    arg_name="invocation", **_hub_event("messages", "joinUserToGroup", "user", "group")
)
@app.generic_output_binding(arg_name="signalRMessages", type="signalR", **SIGNALR)
@app.durable_client_input(client_name="client")
async def join_user_to_group(
    invocation: str, signalRMessages: func.Out[str], client: df.DurableOrchestrationClient
) -> str:
    """``joinUserToGroup(user, group)``: oneself (all connections, now and later), or admins."""
    return await _user_group(invocation, signalRMessages, client, joining=True)


@app.generic_trigger(
    arg_name="invocation", **_hub_event("messages", "leaveUserFromGroup", "user", "group")
)
@app.generic_output_binding(arg_name="signalRMessages", type="signalR", **SIGNALR)
@app.durable_client_input(client_name="client")
async def leave_user_from_group(
    invocation: str, signalRMessages: func.Out[str], client: df.DurableOrchestrationClient
) -> str:
    """``leaveUserFromGroup(user, group)``: oneself, or anyone for admins."""
    return await _user_group(invocation, signalRMessages, client, joining=False)
