"""Durable entities and the durable client: the HTTP API the SDK calls, and the entity runner.

durable-python.md §3-4, §8. The client binding gets the legacy JSON payload whose ``rpcBaseUrl``
points back at this host (``/runtime/webhooks/durabletask/``). ``signal_entity`` is queued and
answered 202 before it runs; each entity instance runs one batch at a time (different instances
in parallel); state is committed to SQLite after each batch; ``read_entity_state`` sees committed
state only (200 with the state JSON, 404 when the entity does not exist).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import azure.functions as func
from aiohttp import web

from .config import load_host_json
from .entities import (
    EntityRecord,
    EntityStore,
    Operation,
    build_batch_request,
    check_entity_key,
    encode_signal_input,
    parse_batch_result,
)
from .errors import BindingError, EntityError, FunctionsHostError
from .indexing import FunctionInfo
from .invoke import InvocationResult
from .log import host_logger
from .runtime import REASON, HostRuntime

T = TypeVar("T")

__all__ = ["BASE_PATH", "DurableRuntime", "client_payload", "setup_durable"]

BASE_PATH = "/runtime/webhooks/durabletask"
MAX_BATCH = 50
DURABLE = web.AppKey("durable", object)


def client_payload(origin: str, task_hub: str) -> str:
    """The ``durableClient`` value (EXT BindingHelper legacy payload), as a JSON string."""
    base = f"{origin}{BASE_PATH}"
    query = f"taskHub={task_hub}&connection=Storage"
    instance = f"{base}/instances/INSTANCEID"
    return json.dumps({
        "taskHubName": task_hub,
        "creationUrls": {
            "createNewInstancePostUri": f"{base}/orchestrators/{{functionName}}[/{{instanceId}}]"
                                        f"?{query}",
            "createAndWaitOnNewInstancePostUri":
                f"{base}/orchestrators/{{functionName}}[/{{instanceId}}]?timeout={{timeoutInSeconds}}"
                f"&pollingInterval={{intervalInSeconds}}&{query}",
        },
        "managementUrls": {
            "id": "INSTANCEID",
            "statusQueryGetUri": f"{instance}?{query}",
            "sendEventPostUri": f"{instance}/raiseEvent/{{eventName}}?{query}",
            "terminatePostUri": f"{instance}/terminate?reason={{text}}&{query}",
            "rewindPostUri": f"{instance}/rewind?reason={{text}}&{query}",
            "purgeHistoryDeleteUri": f"{instance}?{query}",
            "restartPostUri": f"{instance}/restart?{query}",
            "suspendPostUri": f"{instance}/suspend?reason={{text}}&{query}",
            "resumePostUri": f"{instance}/resume?reason={{text}}&{query}",
        },
        "baseUrl": base,
        "requiredQueryStringParameters": "",
        "rpcBaseUrl": f"{base}/",
        "connectionName": None,
    })


@dataclass
class _Instance:
    pending: list[Operation] = field(default_factory=list)
    worker: asyncio.Task[None] | None = None


class DurableRuntime:
    """Entity registry, queues and store for one host."""

    def __init__(self, runtime: HostRuntime) -> None:
        self.runtime = runtime
        self.entities: dict[str, FunctionInfo] = {}
        for info in runtime.functions:
            if info.trigger.kind == "entitytrigger":
                name = str(info.trigger.get("entityName") or info.name).lower()
                if name in self.entities:
                    raise BindingError(f"Entity name '{name}' is used by functions "
                                             f"'{self.entities[name].name}' and '{info.name}' "
                                             f"(entity names are case-insensitive).")
                self.entities[name] = info
        hub = ((load_host_json(runtime.config.app_dir).get("extensions") or {})
               .get("durableTask") or {}).get("hubName") or "TestHubName"
        self.task_hub = str(hub)
        self.store = EntityStore.open(runtime.config.resolved_data_dir / "entities.sqlite3")
        # Every store call runs on this one thread, in order: a commit or a WAL checkpoint
        # waits on the disk there, never on the event loop (benchmarks/RESULTS.md, latency).
        self._store_thread = ThreadPoolExecutor(max_workers=1,
                                                thread_name_prefix="entity-store")
        if self.store.problem and self.entities:
            host_logger.error("entity state cannot be saved in %s (%s); it is kept in memory "
                              "and will be lost when the host stops. Check that the data folder "
                              "is writable (--data-dir).", self.store.path, self.store.problem)
        self.instances: dict[tuple[str, str], _Instance] = {}
        self.idle = asyncio.Event()
        self.idle.set()

    def entity(self, name: str) -> FunctionInfo:
        info = self.entities.get(name.lower())
        if info is None:
            raise EntityError(f"The function '{name}' doesn't exist, is disabled, or is not an "
                              f"entity function.", status_hint=400)
        return info

    def signal(self, name: str, key: str, operation: Operation) -> None:
        """Queue an operation; the instance's worker runs it after the caller got 202."""
        info = self.entity(name)
        check_entity_key(key)
        instance = self.instances.setdefault((name.lower(), key), _Instance())
        instance.pending.append(operation)
        if instance.worker is None or instance.worker.done():
            self.idle.clear()
            instance.worker = asyncio.get_running_loop().create_task(
                self._drain(info, name.lower(), key, instance))

    async def in_store(self, call: Callable[..., T], *args: Any) -> T:
        """Run ``call(*args)`` (a store method) on the store's thread."""
        return await asyncio.get_running_loop().run_in_executor(self._store_thread, call, *args)

    async def close_store(self) -> None:
        await self.in_store(self.store.close)
        self._store_thread.shutdown(wait=False)

    async def _drain(self, info: FunctionInfo, name: str, key: str, instance: _Instance) -> None:
        try:
            while instance.pending:
                batch = instance.pending[:MAX_BATCH]
                instance.pending = instance.pending[MAX_BATCH:]
                try:
                    await self._run_batch(info, name, key, batch)
                except sqlite3.Error as exc:
                    # Disk full, read-only or locked: say so plainly, keep serving the others.
                    host_logger.error("entity @%s@%s: cannot read or save its state in %s (%s: "
                                      "%s); %d operation(s) lost, the last saved state is kept",
                                      name, key, self.store.path, type(exc).__name__, exc,
                                      len(batch))
        finally:
            self.instances.pop((name, key), None)
            if not self.instances:  # another instance may be mid-batch with nothing pending
                self.idle.set()

    async def _run_batch(self, info: FunctionInfo, name: str, key: str,
                         batch: list[Operation]) -> None:
        record = await self.in_store(self.store.load, name, key)
        body = build_batch_request(name, key, record.exists, record.state, batch)
        invocation_id = str(uuid.uuid4())
        try:
            returned = await self.runtime.invoker.invoke(
                info, {info.trigger.name: func.EntityContext(body)}, reason=REASON,
                invocation_id=invocation_id)
            assert isinstance(returned, InvocationResult)
            result = parse_batch_result(returned.return_value, len(batch))
        except FunctionsHostError as exc:
            host_logger.error("entity @%s@%s: batch of %d operation(s) failed, state kept: %s",
                              name, key, len(batch), exc)
            return
        await self.in_store(self.store.save, name, key, EntityRecord(result.exists, result.state))
        for op, outcome in zip(batch, result.results, strict=True):
            if outcome.is_error:
                host_logger.warning("entity @%s@%s: operation '%s' failed: %s", name, key,
                                    op.name, outcome.result)

    async def wait_idle(self, timeout: float) -> None:
        await asyncio.wait_for(self.idle.wait(), timeout)

    def inputs_for(self, info: FunctionInfo, request: web.Request) -> dict[str, Any]:
        """Values of the ``durableClient`` bindings of one invocation.

        ``rpcBaseUrl`` points at the socket that took this request, on loopback when it listens
        on every address, so the SDK's calls never leave the machine (like the extension's
        local listener on 127.0.0.1).
        """
        origin = _local_origin(request)
        return {b.name: client_payload(origin, str(b.get("taskHub") or self.task_hub))
                for b in info.bindings if b.kind == "durableclient"}


def _local_origin(request: web.Request) -> str:
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    if not sockname:
        return f"{request.url.scheme}://{request.url.host}:{request.url.port}"
    address, port = sockname[0], sockname[1]
    if address in ("0.0.0.0", ""):
        address = "127.0.0.1"
    elif address == "::":
        address = "::1"
    host = f"[{address}]" if ":" in address else address
    return f"http://{host}:{port}"


def _check_caller(request: web.Request) -> None:
    """The entity API serves this machine only: the SDK calls it from inside the host."""
    remote = request.remote or ""
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    local = sockname[0] if sockname else None
    if remote in ("127.0.0.1", "::1", local) or remote.startswith("127."):
        return
    raise EntityError("the durable HTTP API accepts local callers only", status_hint=403)


def _durable(request: web.Request) -> DurableRuntime:
    _check_caller(request)
    durable = request.app[DURABLE]
    assert isinstance(durable, DurableRuntime)
    return durable


async def _signal(request: web.Request) -> web.Response:
    durable = _durable(request)
    body = await request.read()
    operation = Operation(name=request.query.get("op", ""),
                          input=encode_signal_input(body, request.content_type))
    durable.signal(request.match_info["name"], request.match_info["key"], operation)
    return web.Response(status=202)


async def _read(request: web.Request) -> web.Response:
    durable = _durable(request)
    name, key = request.match_info["name"], request.match_info["key"]
    durable.entity(name)
    key = "" if key == "$" else key
    try:
        record = await durable.in_store(durable.store.load, name, key)
    except sqlite3.Error as exc:
        host_logger.error("entity @%s@%s: cannot read its state from %s (%s: %s)", name, key,
                          durable.store.path, type(exc).__name__, exc)
        raise EntityError(f"the state of entity @{name}@{key} cannot be read", status_hint=503) \
            from None
    if not record.exists:
        return web.Response(status=404)
    return web.Response(status=200, text=record.state or "null", content_type="application/json")


async def _unsupported(request: web.Request) -> web.Response:
    return web.json_response({"Message": "orchestrations are not supported by the local host"},
                             status=501)


def setup_durable(app: web.Application, runtime: HostRuntime) -> None:
    """Register the entity API and the client binding on ``app``."""
    for info in runtime.functions:
        original = getattr(info.user_function, "entity_function", None)
        if original is not None and asyncio.iscoroutinefunction(original):
            raise BindingError(f"Function '{info.name}': entity functions must be plain "
                                     f"'def' (the SDK does not await them); remove 'async'.")
        client = getattr(info.user_function, "client_function", None)
        if client is not None and not asyncio.iscoroutinefunction(client):
            raise BindingError(f"Function '{info.name}': functions with a durable client "
                                     f"must be 'async def' (the SDK awaits them).")
    durable = DurableRuntime(runtime)
    app[DURABLE] = durable
    runtime.extras["durable_inputs"] = durable.inputs_for
    runtime.extras["durable"] = durable
    entity_path = BASE_PATH + "/entities/{name}/{key}"
    app.router.add_post(entity_path, _signal)
    app.router.add_get(entity_path, _read)
    app.router.add_route("*", BASE_PATH + "/{tail:.*}", _unsupported)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        yield
        try:
            await durable.wait_idle(timeout=10)
        except TimeoutError:
            host_logger.warning("stopping with entity operations still queued")
        await durable.close_store()
        await _close_sdk_session()

    app.cleanup_ctx.append(lifecycle)


async def _close_sdk_session() -> None:
    """The SDK keeps one module-level ClientSession; close it with the loop that made it."""
    try:
        from azure.durable_functions.models.utils import http_utils
    except ImportError:  # pragma: no cover - the SDK is optional for apps without durable
        return
    session = getattr(http_utils, "_client_session", None)
    if session is not None and not session.closed:
        await session.close()
    http_utils._client_session = None
