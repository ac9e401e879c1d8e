"""Durable Functions in the local host: the scheduler of entities, orchestrations and activities.

:class:`DurableRuntime` owns the durable store (every SQLite call in order, on the loop unless
another process holds a lock; checkpoints on a thread) and
one worker per entity and per orchestration instance: a worker runs one batch or episode at a
time, so an entity never runs two batches at once and an instance never two episodes, while
different ones run in parallel. Activities run as soon as they are scheduled (at most
``maxConcurrentActivityFunctions`` at once). Durable timers are loop timers set for the moment the
message becomes visible; a restart re-reads all queued work, and timers already due fire at once.
With ``HostConfig.queue_polling`` work waits for the next poll of an Azure Storage task hub's
queues, as :mod:`.queue_polling` models them (docs/durable.md "Queue polling").

Entity requests (client signals and orchestration calls) are queued in the store before the 202;
state is committed after each batch with the responses to callers (docs/durable.md "Entities").
The client binding gets the legacy JSON payload whose ``rpcBaseUrl`` points back at this host.
"""

from __future__ import annotations

import asyncio
import functools
import os
import secrets
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web

from ..errors import BindingError, ConfigError, EntityError
from ..logs import OnceLog, printable
from .durable_engine import DurableFunctions, OrchestrationEngine, utc_now
from .durable_entities import EntityEngine
from .durable_store import (
    ACTIVITY,
    CHECKPOINT_EVERY,
    ENTITY,
    ORCHESTRATION,
    DurableStore,
    Wake,
    describe_store_error,
)
from .entities import Operation
from .expressions import resolve_settings
from .indexing import FunctionInfo
from .keys import DURABLE_SYSTEM_KEY
from .log import host_logger
from .orchestrations import BASE_PATH, client_payload, unknown_function_message
from .queue_polling import TaskHubPollers
from .runtime import HostRuntime
from .schedules import parse_timespan

T = TypeVar("T")

__all__ = ["BASE_PATH", "DURABLE", "DurableRuntime", "client_payload", "setup_durable"]

SHUTDOWN_GRACE = 2.0
"""Seconds a stopping host lets running batches and episodes finish before cancelling them."""
ENTITY_BATCH_DELAY = 0.005
"""Seconds an idle entity waits before its first batch, so that signals arriving together run
as one batch (one state save), and the batch runs after the work that signalled it has
answered instead of beside it: a chat message's REST call and fan-out are not slowed by its
own history update (benchmarks/RESULTS.md, "Tail latency"). Azure's entities take far longer."""
_TRIGGERS = ("orchestrationtrigger", "activitytrigger", "entitytrigger")


@dataclass
class _Worker:
    again: bool = True
    task: asyncio.Task[None] | None = None


def _registry(functions: Iterable[FunctionInfo]) -> DurableFunctions:
    tables: dict[str, dict[str, FunctionInfo]] = {kind: {} for kind in _TRIGGERS}
    property_of = {"orchestrationtrigger": "orchestration", "activitytrigger": "activity",
                   "entitytrigger": "entityName"}
    for info in functions:
        kind = info.trigger.kind
        if kind not in tables:
            continue
        name = str(info.trigger.get(property_of[kind]) or info.name).lower()
        if name in tables[kind]:
            raise BindingError(f"Durable name '{name}' is used by functions "
                               f"'{tables[kind][name].name}' and '{info.name}' (durable names "
                               f"are case-insensitive).")
        tables[kind][name] = info
    return DurableFunctions(orchestrators=tables["orchestrationtrigger"],
                            activities=tables["activitytrigger"],
                            entities=tables["entitytrigger"])


def _task_hub(runtime: HostRuntime, options: dict[str, Any]) -> str:
    """``extensions.durableTask.hubName`` (``%Setting%`` resolved), default ``TestHubName``."""
    name = resolve_settings(str(options.get("hubName") or "TestHubName"), runtime.config.settings)
    if not (3 <= len(name) <= 50 and name[0].isalpha() and name.isalnum() and name.isascii()):
        raise ConfigError(f"host.json: Task hub name '{name}' should contain only alphanumeric "
                          f"characters, start with a letter, and have length between 3 and 45.")
    return name


def _options(runtime: HostRuntime) -> dict[str, Any]:
    """host.json ``extensions.durableTask``."""
    return dict(runtime.host_json.durable_task)


DEFAULT_MAX_POLLING_INTERVAL = 30.0
DEFAULT_PARTITIONS = 4


def _pollers(runtime: HostRuntime, options: dict[str, Any]) -> TaskHubPollers | None:
    """The queue pollers to imitate, from ``durableTask.storageProvider``'s
    ``maxQueuePollingInterval`` and ``partitionCount``; None unless asked for."""
    if not runtime.config.queue_polling:
        return None
    provider = options.get("storageProvider")
    provider = provider if isinstance(provider, dict) else {}
    interval = DEFAULT_MAX_POLLING_INTERVAL
    text = provider.get("maxQueuePollingInterval")
    if text is not None:
        span = parse_timespan(str(text))
        if span is None or span.total_seconds() <= 0:
            raise ConfigError(f"host.json: durableTask.storageProvider.maxQueuePollingInterval "
                              f"must be a positive TimeSpan such as 00:00:30, got {text!r}")
        interval = span.total_seconds()
    partitions = provider.get("partitionCount", DEFAULT_PARTITIONS)
    if not isinstance(partitions, int) or not 1 <= partitions <= 16:
        raise ConfigError(f"host.json: durableTask.storageProvider.partitionCount must be a "
                          f"whole number from 1 to 16, got {partitions!r}")
    host_logger.info("durable work waits for queue polls as on Azure Storage (up to %g s "
                     "after idle, %d control queues)", interval, partitions)
    return TaskHubPollers(max_interval=interval, partitions=partitions,
                          start=time.monotonic())


def _activity_slots(options: dict[str, Any]) -> int:
    value = options.get("maxConcurrentActivityFunctions")
    return int(value) if isinstance(value, int) and value > 0 else 10 * (os.cpu_count() or 1)


class DurableRuntime:
    """Registry, store, workers and timers of one host's task hub."""

    def __init__(self, runtime: HostRuntime) -> None:
        self.runtime = runtime
        self.functions = _registry(runtime.functions)
        options = _options(runtime)
        self.hub = _task_hub(runtime, options)
        self.override_running = str(options.get("overridableExistingInstanceStates", "")
                                    ).lower() == "anystate"
        """host.json lets a start replace an instance that is still running."""
        self.store = DurableStore.open(runtime.config.resolved_data_dir / "entities.sqlite3",
                                       self.hub, busy_timeout=runtime.config.store_busy_timeout)
        if self.store.moved_aside is not None:
            aside, reason = self.store.moved_aside
            host_logger.error("the durable store %s could not be read (%s): it was moved to %s "
                              "and the host starts with an empty store. The entity state and "
                              "orchestrations it held are in that file.", self.store.path,
                              reason, aside)
        # Store calls wait for another process's lock on this thread (in_store), and WAL
        # checkpoints fsync on their own: the disk is never waited for on the event loop, nor
        # by a commit (benchmarks/RESULTS.md, "Tail latency").
        self._store_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="durable-store")
        self._checkpoint_thread = ThreadPoolExecutor(max_workers=1,
                                                     thread_name_prefix="durable-checkpoint")
        self._checkpointing: asyncio.Future[None] | None = None
        self._checkpointed_at = 0
        self._on_thread = 0
        """Store calls on the store's thread (waiting for a lock); later ones queue there."""
        self._patient = True
        """The store waits for locks (the busy timeout); only calls on the thread do."""
        if self.store.problem:
            host_logger.error("entity state cannot be saved in %s (%s); it and orchestration "
                              "history are kept in memory and will be lost when the host stops. "
                              "Check that the data folder is writable (--data-dir).",
                              self.store.path, self.store.problem)
        self.engine = OrchestrationEngine(runtime, self.functions, self.store, self.in_store,
                                          self.hub, self.client_inputs)
        self.entity_engine = EntityEngine(runtime, self.functions, self.store, self.in_store,
                                          self.hub, self.store_failure, self.dispatch)
        self.workers: dict[tuple[str, str], _Worker] = {}
        self.activities: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(_activity_slots(options))
        self._timers: set[asyncio.TimerHandle] = set()
        self.pollers = _pollers(runtime, options)
        """When set, work is picked up at the next poll an Azure Storage task hub would make."""
        self.idle = asyncio.Event()
        self.idle.set()
        self.closing = False
        self.origin: str | None = None
        """This host's own origin, learnt from the first request (for activity clients)."""
        self.rpc_secret = secrets.token_urlsafe(32)
        """The path segment of the SDK's ``rpcBaseUrl``: fresh at each start, never stored or
        logged, so only this host's own durable clients know it."""
        self.store_errors = OnceLog()
        """Store failures: ERROR once per kind (disk full, locked...), then INFO."""

    @property
    def webhook_query(self) -> str:
        """The query every management URL carries: ``code=<durabletask_extension key>`` when
        keys are checked (the extension appends its webhook URL's query), else nothing."""
        keys = self.runtime.keys
        if keys is None:
            return ""
        return f"code={keys.system_keys[DURABLE_SYSTEM_KEY]}"

    def store_failure(self, exc: sqlite3.Error, category: str, what: str,
                      outcome: str = "") -> None:
        """Say plainly that ``what`` could not use the store: ERROR the first time per
        ``category`` and kind of failure (disk full, locked...), INFO afterwards."""
        kind = getattr(exc, "sqlite_errorname", None) or type(exc).__name__
        self.store_errors.error(host_logger, f"{category}:{kind}", "%s: %s%s", what,
                                describe_store_error(exc, self.store.path,
                                                     self.store.busy_timeout), outcome)

    # -- the store -----------------------------------------------------------------------------
    async def in_store(self, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``call(*args, **kwargs)`` (a store method), in order with the others.

        On the loop, without waiting for locks: a call takes tens of microseconds, less than
        the hop to a thread and back (80 µs of CPU, and up to 400 µs when the thread was idle,
        on the 2-core machine of benchmarks/RESULTS.md), and the fsync of checkpoints has a
        thread of its own. When another process holds the file's lock, the call, and every
        call after it until those are done, runs on the store's thread instead, where it waits
        for the lock up to the busy timeout.
        """
        if not self._on_thread:
            try:
                if self._patient:
                    self.store.wait_for_locks(False)
                    self._patient = False
                result = call(*args, **kwargs)
            except sqlite3.OperationalError as exc:
                if not _locked(exc):
                    raise
            else:
                self._after_store_call()
                return result
        self._on_thread += 1
        try:
            result = await asyncio.get_running_loop().run_in_executor(
                self._store_thread, functools.partial(self._patiently, call, args, kwargs))
        finally:
            self._on_thread -= 1
        self._after_store_call()
        return result

    def _patiently(self, call: Callable[..., T], args: tuple[Any, ...],
                   kwargs: dict[str, Any]) -> T:
        """On the store's thread: wait for another process's lock, up to the busy timeout."""
        if not self._patient:
            self.store.wait_for_locks(True)
            self._patient = True
        return call(*args, **kwargs)

    def _after_store_call(self) -> None:
        loop = asyncio.get_running_loop()
        if (self.store.commits - self._checkpointed_at >= CHECKPOINT_EVERY
                and self._checkpointing is None and not self.closing):
            self._checkpointed_at = self.store.commits
            self._checkpointing = loop.run_in_executor(self._checkpoint_thread, self._checkpoint)
            self._checkpointing.add_done_callback(self._checkpoint_done)

    def _checkpoint(self) -> None:
        try:
            self.store.checkpoint()
        except sqlite3.Error as exc:  # the next one tries again; the safety net stays
            self.store_failure(exc, "checkpoint", "the durable store: cannot checkpoint")

    def _checkpoint_done(self, _: asyncio.Future[None]) -> None:
        self._checkpointing = None

    # -- entities ----------------------------------------------------------------------------
    def entity(self, name: str) -> FunctionInfo:
        info = self.functions.entities.get(name.lower())
        if info is None:
            raise EntityError(unknown_function_message("entity", name, self.functions.known),
                              status_hint=400)
        return info

    async def signal(self, hub: str, name: str, key: str, op: Operation) -> None:
        """Queue an operation durably; the entity's worker runs it after the caller got 202."""
        await self.entity_engine.queue(hub, f"@{name.lower()}@{key}", op)

    # -- scheduling --------------------------------------------------------------------------
    def dispatch(self, wakes: Iterable[Wake]) -> None:
        """Start (or schedule) the workers for new work of this host's task hub.

        Work of another task hub stays queued: only an app with that hub name runs it.
        """
        for wake in wakes:
            if self.closing or wake.hub != self.hub.lower():
                continue
            delay = (wake.visible - utc_now()).total_seconds()
            if delay > 0:
                self._later(delay, self._arrive, wake)
            else:
                self._arrive(wake)

    def _later(self, delay: float, callback: Callable[[Wake], None], wake: Wake) -> None:
        loop = asyncio.get_running_loop()
        self._timers.add(loop.call_later(delay, self._fire, callback, wake))

    def _fire(self, callback: Callable[[Wake], None], wake: Wake) -> None:
        now = asyncio.get_running_loop().time()
        self._timers = {t for t in self._timers if not t.cancelled() and t.when() > now}
        callback(wake)

    def _arrive(self, wake: Wake) -> None:
        """The message is visible: run it now, or at the next poll of its queue."""
        if self.pollers is not None:
            now = time.monotonic()
            at = (self.pollers.work_item(now) if wake.kind == ACTIVITY
                  else self.pollers.control(wake.target, now))
            if at > now:
                self._later(at - now, self._run, wake)
                return
        self._run(wake)

    def _run(self, wake: Wake) -> None:
        if wake.kind == ACTIVITY:
            self._start_activity(wake.seq)
        else:
            self._kick(wake.kind, wake.target)

    def _kick(self, kind: str, target: str) -> None:
        if self.closing:
            return
        worker = self.workers.setdefault((kind, target), _Worker())
        worker.again = True
        if worker.task is None or worker.task.done():
            self.idle.clear()
            delay = ENTITY_BATCH_DELAY if kind == ENTITY else 0.0
            worker.task = asyncio.get_running_loop().create_task(
                self._drive(kind, target, worker, delay), name=f"durable {kind} {target}")

    async def _drive(self, kind: str, target: str, worker: _Worker, delay: float = 0.0
                     ) -> None:
        try:
            if delay:
                await asyncio.sleep(delay)
            while worker.again and not self.closing:
                worker.again = False
                if kind == ORCHESTRATION:
                    wakes = await self.engine.run_instance(target)
                    if wakes is not None:
                        worker.again = True
                        self.dispatch(wakes)
                else:
                    wakes = await self.entity_engine.run(target)
                    if wakes is not None:
                        worker.again = True
                        self.dispatch(wakes)
        except sqlite3.Error as exc:
            self.store_failure(exc, kind, f"{kind} {printable(target)}: cannot read or save "
                               f"its history", "; it runs again when the store can be written")
        except Exception as exc:
            self.runtime.failures.exception(host_logger, f"durable-{kind}", exc,
                                            "durable %s %s: unexpected error", kind,
                                            printable(target))
        finally:
            if self.workers.get((kind, target)) is worker:
                del self.workers[(kind, target)]
            self._update_idle()

    def _start_activity(self, seq: int) -> None:
        task = asyncio.get_running_loop().create_task(self._activity(seq),
                                                      name=f"durable activity {seq}")
        self.activities.add(task)
        self.idle.clear()
        task.add_done_callback(self._activity_done)

    def _activity_done(self, task: asyncio.Task[None]) -> None:
        self.activities.discard(task)
        self._update_idle()

    async def _activity(self, seq: int) -> None:
        async with self._slots:
            try:
                items = await self.in_store(self.store.take_activities, self.hub, [seq])
                for item in items:
                    wake = await self.engine.run_activity(item)
                    if wake is not None:
                        self.dispatch([wake])
            except sqlite3.Error as exc:
                self.store_failure(exc, ACTIVITY, f"activity work item {seq}: cannot read or "
                                   f"save it", "; it runs again after a restart")
            except Exception as exc:
                self.runtime.failures.exception(host_logger, "durable-activity", exc,
                                                "activity work item %d: unexpected error", seq)

    def _update_idle(self) -> None:
        if not self.workers and not self.activities:
            self.idle.set()

    async def wait_idle(self, timeout: float) -> None:
        """Until no batch, episode or activity runs (pending timers do not count)."""
        await asyncio.wait_for(self.idle.wait(), timeout)

    async def resume(self) -> None:
        """Pick up the work a previous run of the host left queued (after a crash, too)."""
        wakes = await self.in_store(self.store.pending)
        items = await self.in_store(self.store.take_activities, self.hub)
        activities = [Wake(i.hub, ACTIVITY, i.instance_id, utc_now(), i.seq) for i in items]
        if wakes or activities:
            host_logger.info("durable task hub %s: resuming %d queued target(s) and %d "
                             "activity work item(s)", self.hub,
                             len([w for w in wakes if w.hub == self.hub.lower()]),
                             len(activities))
        self.dispatch([*wakes, *activities])

    async def close(self) -> None:
        """Let running steps finish briefly, cancel the rest (they run again after a restart),
        then close the store."""
        self.closing = True
        for handle in self._timers:
            handle.cancel()
        self._timers.clear()
        running = [w.task for w in self.workers.values() if w.task is not None]
        if running:
            await asyncio.wait(running, timeout=SHUTDOWN_GRACE)
        pending = [t for t in [*running, *self.activities] if not t.done()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if pending:
            host_logger.info("stopped %d durable step(s) in flight; they run again when the "
                             "host starts", len(pending))
        if self.entity_engine.saving:  # signals being saved: their callers wait on them
            await asyncio.wait(self.entity_engine.saving)
        if self._checkpointing is not None:
            await asyncio.wait([self._checkpointing])
        self._checkpoint_thread.shutdown(wait=True)
        await self.in_store(self.store.close)
        self._store_thread.shutdown(wait=True)

    # -- the client binding ------------------------------------------------------------------
    def learn_origin(self, request: web.Request) -> str:
        origin = local_origin(request)
        self.origin = self.origin or origin
        return origin

    def client_inputs(self, info: FunctionInfo, origin: str | None = None) -> dict[str, Any]:
        """Values of the ``durableClient`` bindings of one invocation."""
        origin = origin or self.origin or (self.runtime.config.public_url or
                                           "http://127.0.0.1:7071").rstrip("/")
        rpc = f"{origin}{BASE_PATH}/rpc/{self.rpc_secret}/"
        return {b.name: client_payload(origin, str(b.get("taskHub") or self.hub),
                                       b.get("connectionName"), self.webhook_query, rpc)
                for b in info.bindings if b.kind == "durableclient"}

    def inputs_for(self, info: FunctionInfo, request: web.Request) -> dict[str, Any]:
        """``rpcBaseUrl`` points at the socket that took this request, on loopback when it
        listens on every address, so the SDK's calls never leave the machine."""
        return self.client_inputs(info, self.learn_origin(request))


def _locked(exc: sqlite3.Error) -> bool:
    """Another connection holds the lock this call needs (SQLITE_BUSY or SQLITE_LOCKED)."""
    name = str(getattr(exc, "sqlite_errorname", "") or "")
    return name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))


def local_origin(request: web.Request) -> str:
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


DURABLE = web.AppKey("durable", DurableRuntime)


def setup_durable(app: web.Application, runtime: HostRuntime) -> None:
    """Register the Durable HTTP API, the client binding and the workers on ``app``."""
    from .durable_api import handle_durable_request

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
    runtime.durable = durable
    app.router.add_route("*", BASE_PATH, handle_durable_request)
    app.router.add_route("*", BASE_PATH + "/rpc/{rpc}/{tail:.*}", handle_durable_request)
    app.router.add_route("*", BASE_PATH + "/{tail:.*}", handle_durable_request)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        await durable.resume()
        yield
        await durable.close()
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
