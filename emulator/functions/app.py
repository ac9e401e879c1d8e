"""``make_app(config)``: the aiohttp shell of the local Functions host.

Routes: ``/runtime/webhooks/signalr`` (SignalR trigger upstream), the Durable HTTP API under
``/runtime/webhooks/durabletask`` when the app has entities, ``POST /admin/functions/{name}``
(manual runs) and every HTTP trigger under ``/{routePrefix}/{route}``; timer functions run on
their schedules while the app runs. Three middlewares, outermost first: CORS from ``Host.CORS``
/ ``Host.CORSCredentials``; errors into their ``status_hint``; the gate (``gate.py``: pages on
other origins kept off the host's own endpoints, the body size limit, memory handed back).
"""

from __future__ import annotations

import base64
import os
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import web

from ..errors import (
    EmulatorError,
    FunctionsHostError,
    InvocationError,
    RequestTimeout,
    RequestTooLarge,
    WebhookError,
)
from ..http_client import HttpClient
from ..logs import printable
from .admin import setup_admin
from .config import HostConfig
from .drain import DRAIN_GRACE
from .expressions import binding_data_for_http
from .gate import (
    GATE,
    BodyLimits,
    Gate,
    answer_and_close,
    gate_middleware,
    host_page_origins,
    logged_path,
    read_body,
)
from .http_binding import build_http_request, response_parts
from .indexing import format_function_table
from .invoke import InvocationResult
from .keys import SIGNALR_SYSTEM_KEY, key_from_request, load_or_create_keys
from .log import host_logger
from .runtime import REASON, HostRuntime
from .signalr_output import connection_setting_name
from .startup_report import log_startup_report
from .timers import TIMERS, setup_timers
from .webhook import (
    build_invocation_context,
    check_headers,
    content_protocol,
    encode_completion,
    parse_connection_body,
    parse_invocation_body,
    verify_upstream_signature,
)

__all__ = ["RUNTIME", "make_app"]

RUNTIME = web.AppKey("runtime", HostRuntime)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _route_kind(request: web.Request, exc: BaseException) -> str:
    """A key for "the same refusal again": the route and the error, never client values, so
    a flood of distinct paths or names still warns once."""
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else "?"
    return f"{route}:{type(exc).__name__}"


def _log_refusal(request: web.Request, status: int, exc: BaseException) -> None:
    """WARNING the first time a kind of refusal is seen by this host, INFO afterwards (no log
    floods); what the client sent is escaped (no forged lines)."""
    request.app[RUNTIME].refusals.warning(
        host_logger, f"{_route_kind(request, exc)}:{status}", "%s %s refused with %d: %s",
        printable(request.method), logged_path(request), status, printable(exc, 500))


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except EmulatorError as exc:
        status = exc.status_hint
        if status >= 500:
            request.app[RUNTIME].failures.error(
                host_logger, f"{_route_kind(request, exc)}:{status}", "%s %s failed: %s",
                printable(request.method), logged_path(request), printable(exc, 500))
            return web.Response(status=status)
        _log_refusal(request, status, exc)
        response = web.Response(status=status, text=str(exc))
        if isinstance(exc, (RequestTooLarge, RequestTimeout)):
            return await answer_and_close(request, response)
        return response
    except Exception as exc:
        request.app[RUNTIME].failures.exception(
            host_logger, _route_kind(request, exc), exc, "unexpected error while serving %s %s",
            printable(request.method), logged_path(request))
        return web.Response(status=500)


def _cors(config: HostConfig) -> Callable[..., Awaitable[web.StreamResponse]]:
    origins = {o.lower() for o in config.cors_origins}

    @web.middleware
    async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        allowed = bool(origin) and ("*" in origins or (origin or "").lower() in origins)
        preflight = (request.method == "OPTIONS"
                     and "Access-Control-Request-Method" in request.headers)
        if preflight and allowed:
            response: web.StreamResponse = web.Response(status=204)
            response.headers["Access-Control-Allow-Methods"] = request.headers[
                "Access-Control-Request-Method"]
            if "Access-Control-Request-Headers" in request.headers:
                response.headers["Access-Control-Allow-Headers"] = request.headers[
                    "Access-Control-Request-Headers"]
        else:
            response = await handler(request)
        if allowed:
            wildcard = "*" in origins and not config.cors_credentials
            response.headers["Access-Control-Allow-Origin"] = "*" if wildcard else origin or ""
            if config.cors_credentials:
                response.headers["Access-Control-Allow-Credentials"] = "true"
            response.headers.add("Vary", "Origin")
        return response

    return cors


def _json_value(value: Any) -> Any:
    """A Python return value as the JSON the host would see (bytes -> base64, as the worker
    converts them: Azure/azure-functions-python-library ``azure/functions/_abc.py``)."""
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode()
    return value


def _counted(handler: Handler) -> Handler:
    """A trigger's handler, counted among the invocations stopping waits for; none starts once
    they are drained (.drain)."""
    async def counted(request: web.Request) -> web.StreamResponse:
        in_flight = request.app[RUNTIME].in_flight
        if in_flight.drained:
            if request.transport is not None:
                request.transport.close()  # no answer: the caller sends it again
            raise web.HTTPServiceUnavailable()
        with in_flight.running():
            return await handler(request)

    return counted


@_counted
async def _http_trigger(request: web.Request) -> web.StreamResponse:
    runtime = request.app[RUNTIME]
    found = runtime.find_route(request.path, request.method)
    if found is None:
        return web.Response(status=404)
    info, route_values = found
    if runtime.keys is not None:
        runtime.keys.authorize_function(
            info.name, info.auth_level, key_from_request(request.headers, request.query))
    body = await read_body(request)
    req = build_http_request(method=request.method, url=str(request.url),
                             headers=request.headers.items(), query=request.query.items(),
                             route_params=route_values, body=body)
    data = binding_data_for_http(
        headers={k: v for k, v in req.headers.items()}, query=dict(request.query),
        route_params=route_values, body=body, content_type=request.content_type)
    invocation_id = str(uuid.uuid4())

    async def finish(result: InvocationResult) -> web.Response:
        await runtime.send_outputs(info, result.outputs, data)
        if not any(b.name == "$return" for b in info.bindings):
            return web.Response(status=204)
        parts = response_parts(result.return_value)
        response = web.Response(status=parts.status, body=parts.body)
        for name, value in parts.headers:
            response.headers.add(name, value)
        return response

    inputs = await _inputs_or_fail(runtime, info, data, req, invocation_id, request)
    try:
        return await runtime.invoker.invoke(info, inputs, reason=REASON,
                                            invocation_id=invocation_id, finish=finish)
    except FunctionsHostError:
        return web.Response(status=500)


async def _inputs_or_fail(runtime: HostRuntime, info: Any, data: Any, trigger_value: Any,
                          invocation_id: str, request: web.Request,
                          extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Input bindings; a failure is logged like a failed invocation and re-raised as a 500."""
    try:
        extra = dict(extra or {})
        if runtime.durable is not None:
            extra.update(runtime.durable.inputs_for(info, request))
        return await runtime.resolve_inputs(info, data, trigger_value, extra)
    except FunctionsHostError as exc:
        runtime.invoker.log_failure(info, invocation_id, f"binding failed: {exc}")
        raise InvocationError(f"binding failed: {exc}", completion_error=str(exc),
                              status_hint=500) from exc


@_counted
async def _signalr_webhook(request: web.Request) -> web.StreamResponse:
    runtime = request.app[RUNTIME]
    if runtime.keys is not None:
        runtime.keys.authorize_system(SIGNALR_SYSTEM_KEY,
                                      key_from_request(request.headers, request.query))
    protocol = content_protocol(request.headers.get("Content-Type"))
    key = check_headers(request.headers)
    info = runtime.triggers.get(key)
    if info is None:
        raise WebhookError(f"no function handles hub '{key[0]}', category '{key[1]}', event "
                           f"'{key[2]}'", status_hint=404)
    runtime.connection(connection_setting_name(info.trigger))
    verify_upstream_signature(request.headers, runtime.signature_keys())
    body = await read_body(request)
    category = key[1]
    if category == "connections":
        message = parse_connection_body(body)
    else:
        message = parse_invocation_body(body, protocol)
        assert message.target is not None
        if message.target.lower() != key[2]:
            raise WebhookError(f"Bad request: target '{message.target}' does not match "
                               f"X-ASRS-Event '{request.headers['X-ASRS-Event']}'")
    context_json = build_invocation_context(request.headers.items(), message)
    names = [str(n) for n in info.trigger.get("parameterNames") or []]
    arguments = message.arguments or []
    data: dict[str, Any] = dict(zip(names, arguments, strict=False))
    invocation_id = str(uuid.uuid4())
    result: Any = None
    error: str | None = None
    try:
        if names and len(names) != len(arguments):
            runtime.invoker.log_failure(info, invocation_id, "parameterNames mismatch",
                                        "parameterNames")
            raise WebhookError(f"The number of arguments ({len(arguments)}) does not match "
                               f"parameterNames ({len(names)}) of function '{info.name}'",
                               status_hint=500)
        inputs = await _inputs_or_fail(runtime, info, data, context_json, invocation_id,
                                       request)

        async def finish(done: InvocationResult) -> Any:
            await runtime.send_outputs(info, done.outputs, data)
            return done.return_value

        result = await runtime.invoker.invoke(info, inputs, reason=REASON,
                                              invocation_id=invocation_id, finish=finish)
    except InvocationError as exc:
        error = exc.completion_error
    except FunctionsHostError as exc:
        error = str(exc)
    if category == "connections":
        if key[2] == "connected" and error is not None:
            return web.Response(status=403)
        return web.Response(status=200)
    if not message.invocation_id:
        return web.Response(status=200)
    body = encode_completion(message.invocation_id, protocol, result=_json_value(result),
                             error=error)
    return web.Response(status=200, body=body)


async def _drain(app: web.Application) -> None:
    """Stop the timers and wait for the trigger invocations in flight, while the host still
    answers the calls they make to it (docs in .drain). Runs once; the runner may call the
    shutdown hooks twice (:func:`emulator.serve.stop_runner`)."""
    runtime = app[RUNTIME]
    if runtime.in_flight.stopping:
        return
    runtime.in_flight.stopping = True
    if runtime.in_flight.count:
        host_logger.info("stopping: waiting up to %g s for %d function invocation(s) to finish",
                         DRAIN_GRACE, runtime.in_flight.count)
    if TIMERS in app:
        app[TIMERS].halt()  # a run in progress is counted in in_flight
    cancelled = await runtime.in_flight.finish(DRAIN_GRACE)
    runtime.in_flight.drained = True
    if cancelled:
        host_logger.warning("stopping: %d function invocation(s) still running after %g s "
                            "were cancelled", cancelled, DRAIN_GRACE)


async def _http_client_ctx(app: web.Application) -> AsyncIterator[None]:
    runtime = app[RUNTIME]
    runtime.http = HttpClient()
    try:
        yield
    finally:
        await runtime.http.close()
        runtime.invoker.close()
        if runtime.imported is not None:
            runtime.imported.restore()
        _restore_environment(runtime.replaced_env)
        host_logger.info("host stopped")


def make_app(config: HostConfig) -> web.Application:
    """Index the app at ``config.app_dir`` and return the host application.

    The settings are exported to ``os.environ`` (the app reads them there, as on Azure) before
    the app is imported; what this host changed is put back on cleanup. Raises IndexingError /
    ConfigError when the app is refused.
    """
    replaced = {name: os.environ.get(name) for name, value in config.settings.items()
                if os.environ.get(name) != value}
    os.environ.update({name: config.settings[name] for name in replaced})
    try:
        runtime = HostRuntime.load(config)
        runtime.replaced_env = replaced
        return _build_app(config, runtime)
    except BaseException:
        _restore_environment(replaced)
        raise


def _restore_environment(previous: dict[str, str | None]) -> None:
    for name, value in previous.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _build_app(config: HostConfig, runtime: HostRuntime) -> web.Application:
    try:
        return _assemble(config, runtime)
    except BaseException:
        runtime.invoker.close()
        if runtime.imported is not None:
            runtime.imported.restore()
        raise


def _assemble(config: HostConfig, runtime: HostRuntime) -> web.Application:
    if config.enable_auth:
        runtime.keys = load_or_create_keys(config.resolved_keys_file,
                                           lambda: secrets.token_urlsafe(32))
        host_logger.info("key checks are on; keys are in %s", config.resolved_keys_file)
    limits = BodyLimits(config.resolved_max_request_body, config.body_timeout)
    app = web.Application(middlewares=[_cors(config), _errors, gate_middleware],
                          client_max_size=limits.max_bytes)
    app[RUNTIME] = runtime
    app[GATE] = Gate(host_page_origins(config.public_url, config.cors_origins), limits,
                     open_routes=[_http_trigger])
    app.cleanup_ctx.append(_http_client_ctx)
    app.on_shutdown.append(_drain)
    app.router.add_route("*", "/runtime/webhooks/signalr", _signalr_webhook)
    app.router.add_route("*", "/runtime/webhooks/signalr/{extra:.*}", _signalr_webhook)
    if any(f.trigger.kind in ("entitytrigger", "orchestrationtrigger", "activitytrigger")
           or f.by_kind("durableclient") for f in runtime.functions):
        from .durable import setup_durable

        setup_durable(app, runtime)
    if runtime.timers:
        setup_timers(app, runtime)
    setup_admin(app, runtime)
    app.router.add_route("*", "/{tail:.*}", _http_trigger)
    host_logger.info("%s", format_function_table(runtime.functions, runtime.route_prefix,
                                                 config.public_url or ""))
    log_startup_report(runtime)
    return app
