"""The host's admin API: ``POST /admin/functions/{name}`` runs a non-HTTP function once.

As ``FunctionsController.Invoke`` (``Azure/azure-functions-host src/WebJobs.Script.WebHost/
Controllers/FunctionsController.cs``): the body is ``{"input": "..."}``; no body is 400, an
unknown function (or one in error) 404, otherwise 202 at once and the function runs in the
background. Admin routes need the master key (policy ``AuthLevelAdmin``); Core Tools lets every
call through unless started with ``--enableAuth``, and so does this host without
``--enable-auth``. The local host runs timer functions this way
(docs/functions-host-indexing-and-timers.md, "Manual runs").
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from ..errors import InvalidFunctionKey
from .gate import read_body
from .keys import key_from_request
from .runtime import HostRuntime
from .timers import TIMERS

__all__ = ["authorize_admin", "setup_admin"]

_JSON_TYPES = ("application/json", "text/json")


def authorize_admin(request: web.Request, runtime: HostRuntime) -> None:
    """Every admin route asks here: the master key when keys are checked, else anyone."""
    if runtime.keys is None:
        return
    if not runtime.keys.is_master(key_from_request(request.headers, request.query)):
        raise InvalidFunctionKey("the admin API needs the master key (x-functions-key header "
                                 "or ?code=)")


async def _invocation_input(request: web.Request) -> str | None:
    """The ``input`` of a FunctionInvocation body; 415 / 400 as ASP.NET model binding does."""
    media = (request.content_type or "").lower()
    if media not in _JSON_TYPES and not media.endswith("+json"):
        raise web.HTTPUnsupportedMediaType(text="send {\"input\": \"...\"} as application/json")
    try:
        body: Any = json.loads(await read_body(request) or b"null")
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="the body must be a JSON object like {\"input\": \"...\"}")
    lowered = {str(k).lower(): v for k, v in body.items()}
    value = lowered.get("input")
    if isinstance(value, (dict, list)):
        raise web.HTTPBadRequest(text="input must be a string")
    if value is None:
        return None
    return str(value)


def setup_admin(app: web.Application, runtime: HostRuntime) -> None:
    """Register the admin routes on ``app`` (before the HTTP functions' catch-all route)."""

    async def run_function(request: web.Request) -> web.Response:
        authorize_admin(request, runtime)
        text = await _invocation_input(request)
        name = request.match_info["name"]
        info = next((f for f in runtime.functions if f.name.lower() == name.lower()), None)
        if info is None:
            raise web.HTTPNotFound()
        timers = app.get(TIMERS)
        if info.trigger.kind != "timertrigger" or timers is None:
            raise web.HTTPBadRequest(
                text=f"function '{info.name}' has a {info.trigger.type}; the local host runs "
                     f"only timer functions through the admin API (call HTTP functions on their "
                     f"route)")
        if not timers.run_now(info.name, text):
            raise web.HTTPNotFound()
        return web.Response(status=202)

    app.router.add_post("/admin/functions/{name}", run_function)
