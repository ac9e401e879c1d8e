"""Bidirectional chat: Azure Functions (Python v2) + Azure SignalR Service in Serverless mode.

Clients invoke hub methods on the service; the service calls these functions upstream
(``/runtime/webhooks/signalr``); the functions answer through the SignalR output binding.
Every binding name is camelCase (the host refuses underscores) and every SignalR value crosses
the binding boundary as a JSON ``str``, so this file runs unchanged on Azure.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from pathlib import Path

import azure.functions as func
import jinja2

from chat import (
    DEFAULT_MAX_MESSAGE_LENGTH,
    ChatError,
    PageSettings,
    content_security_policy,
    new_message,
    service_origins,
    validate_text,
    validate_user_name,
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

log = logging.getLogger("chat")
# Loaded once per worker: the template never changes while the app runs.
_page = jinja2.Environment(loader=jinja2.FileSystemLoader(CONTENT), autoescape=True).get_template(
    "index.html"
)


def _signalr_binding_settings() -> dict[str, str]:
    # Both spellings: older SignalR extensions read connectionStringSetting, newer ones connection.
    return {"hub_name": HUB, "connection_string_setting": CONNECTION, "connection": CONNECTION}


def _client_library_url() -> str:
    if LOCAL_CLIENT_LIBRARY.is_file():
        return "assets/signalr.min.js"
    return os.environ.get("SIGNALR_CLIENT_URL", DEFAULT_CLIENT_LIBRARY_URL)


def _max_message_length() -> int:
    return int(os.environ.get("CHAT_MAX_MESSAGE_LENGTH", DEFAULT_MAX_MESSAGE_LENGTH))


def _send(out: func.Out[str], target: str, *arguments: object, **routing: str) -> None:
    out.set(json.dumps({"target": target, "arguments": list(arguments), **routing}))


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
    **_signalr_binding_settings(),
)
def negotiate(req: func.HttpRequest, connectionInfo: str) -> func.HttpResponse:
    """Where the client library starts: the service URL and an access token for this user."""
    try:
        validate_user_name(req.headers.get(PRINCIPAL_NAME))
    except ChatError as error:
        return func.HttpResponse(str(error), status_code=400)
    return func.HttpResponse(connectionInfo, mimetype="application/json")


@app.generic_trigger(
    arg_name="invocation",
    type="signalRTrigger",
    category="connections",
    event="connected",
    **_signalr_binding_settings(),
)
@app.generic_output_binding(
    arg_name="signalRMessages", type="signalR", **_signalr_binding_settings()
)
def on_connected(invocation: str, signalRMessages: func.Out[str]) -> None:
    """Tell everyone a connection opened, and whether the upstream call carried a token."""
    context = json.loads(invocation)
    headers = {name.lower(): value for name, value in (context.get("Headers") or {}).items()}
    log.info("connected: %s (user %s)", context["ConnectionId"], context.get("UserId"))
    _send(
        signalRMessages,
        "newConnection",
        {"connectionId": context["ConnectionId"], "authentication": "authorization" in headers},
    )


@app.generic_trigger(
    arg_name="invocation",
    type="signalRTrigger",
    category="connections",
    event="disconnected",
    **_signalr_binding_settings(),
)
def on_disconnected(invocation: str) -> None:
    context = json.loads(invocation)
    log.info("disconnected: %s (user %s)", context["ConnectionId"], context.get("UserId"))


@app.generic_trigger(
    arg_name="invocation",
    type="signalRTrigger",
    category="messages",
    event="broadcast",
    parameter_names=["text"],
    **_signalr_binding_settings(),
)
@app.generic_output_binding(
    arg_name="signalRMessages", type="signalR", **_signalr_binding_settings()
)
def broadcast(invocation: str, signalRMessages: func.Out[str]) -> str:
    """``broadcast(text)``: everyone receives ``newMessage``; the caller gets the message id."""
    context = json.loads(invocation)
    text = validate_text(context["Arguments"][0], _max_message_length())
    message = new_message(
        id=uuid.uuid4().hex,
        sender=context.get("UserId"),
        connection_id=context["ConnectionId"],
        text=text,
        now=time.time(),
    )
    _send(signalRMessages, "newMessage", message.to_payload())
    return message.id
