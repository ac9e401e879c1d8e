"""The Durable HTTP API under ``/runtime/webhooks/durabletask``: entities and orchestrations.

Routes, status codes and bodies are the extension's ``HttpApiHandler`` (docs/durable.md
"Management API"). Every request goes through :func:`authorize` first (the one place where
callers are checked), then ``taskHub`` / ``connection`` pick the task hub it acts on: another
task hub is another namespace of the same store, as another task hub is another set of tables
and queues in the same storage account on Azure; its work waits for an app with that hub name.
Errors are JSON (``{"Message", "ExceptionMessage"?, "ExceptionType"?}``), because the SDK parses
every answer as JSON.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import sqlite3
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any

from aiohttp import web

from ..errors import DurableError, InvalidFunctionKey
from ..logs import printable
from .durable import DURABLE, DurableRuntime
from .durable_engine import durable_name, new_execution_id, utc_now
from .durable_store import describe_store_error
from .entities import Operation, check_entity_key, encode_signal_input
from .gate import logged_path, read_body
from .keys import DURABLE_SYSTEM_KEY, key_from_request
from .log import host_logger
from .orchestrations import (
    BASE_PATH,
    ApiOperation,
    ApiRoute,
    EventType,
    HistoryEvent,
    InstanceRecord,
    OrchestrationStatus,
    StartInstance,
    check_status_body,
    entity_status_json,
    history_json,
    management_urls,
    match_api_route,
    query_bool,
    query_int,
    query_time,
    status_code_for,
    status_json,
    unknown_function_message,
)

__all__ = ["authorize", "handle_durable_request"]

MAX_INSTANCE_ID = 256
_ARGUMENTS = "One or more of the arguments submitted is incorrect"
_WENT_WRONG = "Something went wrong while processing your request"


class _ApiError(DurableError):
    """An answer with a JSON error body; ``detail`` becomes ``ExceptionMessage``."""

    def __init__(self, status: int, message: str, detail: str | None = None,
                 exception_type: str = "System.ArgumentException") -> None:
        super().__init__(message, status_hint=status)
        self.detail = detail
        self.exception_type = exception_type

    def response(self) -> web.Response:
        body: dict[str, Any] = {"Message": str(self)}
        if self.detail is not None:
            body.update(ExceptionMessage=self.detail, ExceptionType=self.exception_type)
        return web.json_response(body, status=self.status_hint)


def authorize(request: web.Request, durable: DurableRuntime) -> None:
    """Who may call the durable API (pages on other origins were refused before, gate.py).

    - The SDK's own calls come in under ``rpc/<secret>/`` (the client binding's ``rpcBaseUrl``):
      the secret is the proof, as the extension's RPC endpoint is open to its own worker.
    - With keys checked, the ``durabletask_extension`` system key or the master key, in
      ``code=`` or ``x-functions-key``, as the Functions host authorizes extension webhooks
      (docs/durable.md, "Management API").
    - Without, callers on this machine only.
    """
    secret = request.match_info.get("rpc")
    if secret is not None:
        if not hmac.compare_digest(secret.encode(), durable.rpc_secret.encode()):
            raise InvalidFunctionKey("this is not the durable client's RPC address")
        return
    keys = durable.runtime.keys
    if keys is not None:
        keys.authorize_system(DURABLE_SYSTEM_KEY, key_from_request(request.headers,
                                                                   request.query))
        return
    remote = request.remote or ""
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    local = sockname[0] if sockname else None
    if remote in ("127.0.0.1", "::1", local) or remote.startswith("127."):
        return
    raise _ApiError(403, "the durable HTTP API accepts local callers only")


def _connection_known(durable: DurableRuntime, name: str) -> bool:
    """The extension's connection lookup: ``AzureWebJobs<name>``, ``<name>``, ConnectionStrings.
    ``Storage`` is this host's own store."""
    if name.lower() == "storage":
        return True
    settings = durable.runtime.config.settings
    candidates = (f"AzureWebJobs{name}", name, f"ConnectionStrings:{name}")
    return any(key.lower() == c.lower() or key.lower().startswith((c.lower() + "__",
                                                                   c.lower() + ":"))
               for key in settings for c in candidates)


def _task_hub(durable: DurableRuntime, query: Mapping[str, str]) -> tuple[str, str | None]:
    """``taskHub`` and ``connection`` of the request (HttpApiHandler.GetClient)."""
    values = {k.lower(): v for k, v in query.items() if v.strip()}
    hub = values.get("taskhub", durable.hub)
    connection = values.get("connection")
    if connection is not None and not _connection_known(durable, connection):
        raise _ApiError(500, _WENT_WRONG, f"Unable to resolve the Azure Storage connection "
                        f"named '{connection}'.", "System.InvalidOperationException")
    if not (3 <= len(hub) <= 50 and hub[0].isalpha() and hub.isalnum() and hub.isascii()):
        raise _ApiError(400, _ARGUMENTS, f"Task hub name '{hub}' should contain only "
                        f"alphanumeric characters, start with a letter, and have length "
                        f"between 3 and 45.")
    return hub, connection


async def handle_durable_request(request: web.Request) -> web.StreamResponse:
    """Every durable route: authorize, pick the task hub, run the operation."""
    durable = request.app[DURABLE]
    try:
        authorize(request, durable)
        durable.learn_origin(request)
        route = match_api_route(request.method, request.match_info.get("tail", ""))
        if route.operation == ApiOperation.NOT_FOUND:
            return web.Response(status=404)
        hub, connection = _task_hub(durable, request.query)
        return await _HANDLERS[route.operation](_Call(durable, request, route, hub, connection))
    except _ApiError as exc:
        _log_refusal(request, exc)
        return exc.response()
    except DurableError as exc:  # entity names and keys: the message is the whole answer
        _log_refusal(request, exc)
        return web.json_response({"Message": str(exc)}, status=exc.status_hint)
    except sqlite3.Error as exc:
        durable.store_failure(exc, "api", f"durable API {printable(request.method)} "
                                          f"{logged_path(request)}", "; answered 503")
        return web.json_response({"Message": _WENT_WRONG,
                                  "ExceptionMessage": describe_store_error(exc)}, status=503)


def _log_refusal(request: web.Request, exc: DurableError) -> None:
    detail = getattr(exc, "detail", None)
    host_logger.info("%s %s answered %d: %s", printable(request.method), logged_path(request),
                     exc.status_hint, printable(detail or exc, 500))


class _Call:
    """One request with what every handler needs."""

    def __init__(self, durable: DurableRuntime, request: web.Request, route: ApiRoute,
                 hub: str, connection: str | None) -> None:
        self.durable, self.request, self.route = durable, request, route
        self.hub, self.connection = hub, connection
        self.own = hub.lower() == durable.hub.lower()

    @property
    def query(self) -> Mapping[str, str]:
        return self.request.query

    async def record(self) -> InstanceRecord | None:
        return await self.durable.in_store(self.durable.store.load_instance, self.hub,
                                           self.route.key)

    def urls(self, instance_id: str) -> dict[str, str]:
        origin = f"{self.request.url.scheme}://{self.request.url.raw_authority}"
        return management_urls(origin + BASE_PATH, instance_id, self.hub, self.connection,
                               self.durable.webhook_query)


# -- orchestrations ------------------------------------------------------------------------------
def _check_instance_id(instance_id: str) -> None:
    if instance_id.startswith("@"):
        raise _ApiError(400, _ARGUMENTS, "Orchestration instance ids must not start with @.")
    if any(c in "/\\?#" or ord(c) < 32 or 127 <= ord(c) < 160 for c in instance_id):
        raise _ApiError(400, _ARGUMENTS, "Orchestration instance ids must not contain /, \\, #, "
                        "?, or control characters.")
    if len(instance_id) > MAX_INSTANCE_ID:
        raise _ApiError(400, _ARGUMENTS, f"Instance ID lengths must not exceed "
                        f"{MAX_INSTANCE_ID} characters.")


async def _start_instance(call: _Call, name: str, instance_id: str, text: str | None) -> str:
    durable = call.durable
    if call.own:
        info = durable.functions.orchestrators.get(name.lower())
        if info is None:
            raise _ApiError(400, _ARGUMENTS, unknown_function_message(
                "orchestrator", name, durable.functions.known))
        name = durable_name(info)
    instance_id = instance_id or uuid.uuid4().hex
    _check_instance_id(instance_id)
    existing = await durable.in_store(durable.store.load_instance, call.hub, instance_id)
    if existing is not None and not existing.status.is_terminal and not durable.override_running:
        raise _ApiError(500, _WENT_WRONG, f"An Orchestration instance with the status "
                        f"{existing.status.title} already exists.",
                        "DurableTask.Core.Exceptions.OrchestrationAlreadyExistsException")
    wake = await durable.in_store(durable.store.start_instance, call.hub,
                                  StartInstance(instance_id, str(name), text),
                                  new_execution_id(), utc_now())
    durable.dispatch([wake])
    host_logger.info("orchestration %s (%s) scheduled", printable(instance_id), printable(name))
    return instance_id


def _seconds(query: Mapping[str, str], name: str) -> float | None:
    try:
        return float(query[name])
    except (KeyError, ValueError):
        return None


async def _started(call: _Call, instance_id: str) -> web.Response:
    """The check-status answer, or the outcome when the caller asked to wait for it."""
    timeout, interval = _seconds(call.query, "timeout"), _seconds(call.query, "pollingInterval")
    if timeout is not None and interval is not None:
        if interval > timeout:
            raise _ApiError(400, _ARGUMENTS, f"Total timeout {timeout} should be bigger than "
                            f"retry timeout {interval}")
        deadline = utc_now() + timedelta(seconds=timeout)
        while True:
            record = await call.durable.in_store(call.durable.store.load_instance, call.hub,
                                                 instance_id)
            if record is not None and record.status == OrchestrationStatus.COMPLETED:
                return web.json_response(status_json(record)["output"])
            if record is not None and record.status.is_terminal:
                return web.json_response(status_json(record), status=status_code_for(
                    record.status))
            remaining = (deadline - utc_now()).total_seconds()
            if remaining <= 0:
                break
            await asyncio.sleep(min(interval, remaining))
    urls = call.urls(instance_id)
    return web.json_response(check_status_body(urls), status=202, headers={
        "Location": urls["statusQueryGetUri"], "Retry-After": "10"})


async def _start(call: _Call) -> web.Response:
    body = await read_body(call.request)
    text = None
    if body:
        try:
            text = json.dumps(json.loads(body), separators=(",", ":"), ensure_ascii=False)
        except (ValueError, UnicodeDecodeError):
            raise _ApiError(400, "Invalid JSON content", "the request body is not JSON",
                            "Newtonsoft.Json.JsonReaderException") from None
    instance_id = await _start_instance(call, call.route.name, call.route.key, text)
    return await _started(call, instance_id)


async def _status(call: _Call) -> web.Response:
    record = await call.record()
    if record is None:
        return web.Response(status=404)
    query = call.query
    history = None
    if query_bool(query, "showHistory", False) and record.status != OrchestrationStatus.PENDING:
        events = await call.durable.in_store(call.durable.store.load_history, call.hub,
                                             record.instance_id)
        history = history_json(events, show_output=query_bool(query, "showHistoryOutput", False),
                               show_input=query_bool(query, "showInput", True))
    status = status_code_for(record.status, fail_with_500=query_bool(
        query, "returnInternalServerErrorOnFailure", False))
    headers = {"Location": str(call.request.url), "Retry-After": "5"} if status == 202 else {}
    body = status_json(record, show_input=query_bool(query, "showInput", True), history=history)
    return web.json_response(body, status=status, headers=headers)


def _statuses(request: web.Request) -> list[OrchestrationStatus]:
    """``runtimeStatus``, repeated or comma-separated; unknown names are ignored (.NET)."""
    values = ",".join(request.query.getall("runtimeStatus", [])).split(",")
    return [s for s in (OrchestrationStatus.from_title(v) for v in values if v) if s]


def _page_token(token: str | None) -> str | None:
    if not token:
        return None
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        raise _ApiError(400, _ARGUMENTS, "the continuation token is not valid") from None


def _next_token(last: str) -> str:
    return base64.urlsafe_b64encode(last.encode()).decode()


async def _list_instances(call: _Call) -> web.Response:
    query = call.query
    top = query_int(query, "top") or 100
    statuses = _statuses(call.request)
    records = await call.durable.in_store(
        call.durable.store.list_instances, call.hub,
        after=_page_token(call.request.headers.get("x-ms-continuation-token")), limit=top + 1,
        since=query_time(query, "createdTimeFrom"), until=query_time(query, "createdTimeTo"),
        statuses=statuses, prefix=query.get("instanceIdPrefix"))
    page = records[:top]
    headers = {"x-ms-continuation-token": _next_token(page[-1].instance_id)} \
        if len(records) > top else {}
    show_input = query_bool(query, "showInput", True)
    return web.json_response([status_json(r, show_input=show_input) for r in page],
                             headers=headers)


async def _purge(call: _Call) -> web.Response:
    if await call.record() is None:
        return web.Response(status=404)
    deleted = await call.durable.in_store(call.durable.store.purge, call.hub, [call.route.key])
    return web.json_response({"instancesDeleted": deleted})


async def _purge_many(call: _Call) -> web.Response:
    since = query_time(call.query, "createdTimeFrom")
    if since is None:
        return web.json_response("Please provide value for 'createdTimeFrom' parameter.",
                                 status=400)
    until = query_time(call.query, "createdTimeTo") or utc_now()
    statuses = _statuses(call.request)
    deleted = await call.durable.in_store(call.durable.store.purge_matching, call.hub, since,
                                          until, statuses)
    if not deleted:
        return web.Response(status=404)
    return web.json_response({"instancesDeleted": deleted})


async def _control(call: _Call, kind: EventType) -> web.Response:
    """terminate / suspend / resume: 404 unknown, 410 ended, else queued and 202."""
    record = await call.record()
    if record is None:
        return web.Response(status=404)
    if record.status.is_terminal:
        return web.Response(status=410)
    suspended = record.status == OrchestrationStatus.SUSPENDED
    if (kind == EventType.EXECUTION_SUSPENDED and suspended) or (
            kind == EventType.EXECUTION_RESUMED and not suspended):
        verb = "suspend" if kind == EventType.EXECUTION_SUSPENDED else "resume"
        raise _ApiError(500, _WENT_WRONG, f"Cannot {verb} the orchestration instance "
                        f"{record.instance_id} because instance is in the "
                        f"{record.status.title} state.", "System.InvalidOperationException")
    event = HistoryEvent(kind=kind, timestamp=utc_now(), input=call.query.get("reason"))
    await _queue(call, record.instance_id, event)
    return web.Response(status=202)


async def _queue(call: _Call, instance_id: str, event: HistoryEvent) -> None:
    wake = await call.durable.in_store(call.durable.store.queue_message, call.hub, instance_id,
                                       event, utc_now())
    call.durable.dispatch([wake])


async def _restart(call: _Call) -> web.Response:
    record = await call.record()
    if record is None:
        raise _ApiError(400, "InstanceId does not match a valid orchestration instance.",
                        f"An orchestrastion with the instanceId {call.route.key} was not found.")
    new_id = "" if query_bool(call.query, "restartWithNewInstanceId", True) else record.instance_id
    instance_id = await _start_instance(call, record.name, new_id, record.input)
    return await _started(call, instance_id)


async def _rewind(call: _Call) -> web.Response:
    raise _ApiError(501, "rewind is not supported by the local host")


async def _raise_event(call: _Call) -> web.Response:
    record = await call.record()
    if record is None:
        return web.Response(status=404)
    if record.status.is_terminal:
        return web.Response(status=410)
    if call.request.content_type.lower() != "application/json":
        raise _ApiError(400, "Only application/json request content is supported")
    try:
        text = json.dumps(json.loads(await read_body(call.request)), separators=(",", ":"),
                          ensure_ascii=False)
    except (ValueError, UnicodeDecodeError):
        raise _ApiError(400, "Invalid JSON content", "the request body is not JSON",
                        "Newtonsoft.Json.JsonReaderException") from None
    await _queue(call, record.instance_id, HistoryEvent(
        kind=EventType.EVENT_RAISED, timestamp=utc_now(), name=call.route.name, input=text))
    return web.Response(status=202)


# -- entities ----------------------------------------------------------------------------------
async def _entity_read(call: _Call) -> web.Response:
    name, key = call.route.name, call.route.key
    if call.own:
        call.durable.entity(name)
    key = "" if key == "$" else key
    record = await call.durable.in_store(call.durable.store.load_entity, call.hub, name, key)
    if not record.exists:
        return web.Response(status=404)
    return web.Response(status=200, text=record.state or "null", content_type="application/json")


async def _entity_list(call: _Call) -> web.Response:
    query = call.query
    top = query_int(query, "top") or 100
    after_text = _page_token(call.request.headers.get("x-ms-continuation-token"))
    after = tuple(json.loads(after_text)) if after_text else None
    rows = await call.durable.in_store(
        call.durable.store.list_entities, call.hub, call.route.name or None,
        after=after, limit=top + 1, since=query_time(query, "lastOperationTimeFrom"),
        until=query_time(query, "lastOperationTimeTo"))
    page = rows[:top]
    fetch = query_bool(query, "fetchState", False)
    headers = {"x-ms-continuation-token": _next_token(json.dumps([page[-1].name, page[-1].key]))
               } if len(rows) > top else {}
    return web.json_response([entity_status_json(r.name, r.key, r.updated, r.state, fetch)
                              for r in page], headers=headers)


async def _entity_signal(call: _Call) -> web.Response:
    name, key = call.route.name, call.route.key
    check_entity_key(key)
    if call.own:
        call.durable.entity(name)
    operation = "delete" if call.request.method == "DELETE" else call.query.get("op", "")
    body = await read_body(call.request)
    op = Operation(name=operation, input=encode_signal_input(body, call.request.content_type),
                   id=str(uuid.uuid4()))
    await call.durable.signal(call.hub, name, key, op)
    return web.Response(status=202)


_HANDLERS: dict[ApiOperation, Callable[[_Call], Awaitable[web.Response]]] = {
    ApiOperation.START: _start,
    ApiOperation.STATUS: _status,
    ApiOperation.INSTANCE_LIST: _list_instances,
    ApiOperation.PURGE: _purge,
    ApiOperation.INSTANCE_PURGE_MANY: _purge_many,
    ApiOperation.TERMINATE: lambda call: _control(call, EventType.EXECUTION_TERMINATED),
    ApiOperation.SUSPEND: lambda call: _control(call, EventType.EXECUTION_SUSPENDED),
    ApiOperation.RESUME: lambda call: _control(call, EventType.EXECUTION_RESUMED),
    ApiOperation.RESTART: _restart,
    ApiOperation.REWIND: _rewind,
    ApiOperation.RAISE_EVENT: _raise_event,
    ApiOperation.ENTITY_READ: _entity_read,
    ApiOperation.ENTITY_LIST: _entity_list,
    ApiOperation.ENTITY_SIGNAL: _entity_signal,
}
