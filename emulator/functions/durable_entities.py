"""The entity shell: queue requests durably, run one batch with the SDK's handler, commit.

Requests from clients and orchestrations are queued in the store (docs/durable.md "Entities");
a batch takes up to 50 of them in order, runs the app's entity function once through the
SDK's own ``Entity.create`` handle, and commits the new state, the consumed requests and the
answers to calling orchestrations in one transaction. When the store cannot be written (disk
full), requests are kept in memory, and each lost write is logged plainly.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import uuid
from collections.abc import Callable, Iterable

import azure.functions as func

from ..errors import EntityError, FunctionsHostError
from ..logs import printable
from .durable_engine import DurableFunctions, StoreCall, utc_now
from .durable_store import ENTITY, DurableStore, EntityRecord, Wake
from .entities import (
    Operation,
    build_batch_request,
    decode_request,
    encode_request,
    encode_response,
    parse_batch_result,
    split_scheduler_id,
)
from .indexing import FunctionInfo
from .invoke import InvocationResult
from .log import host_logger
from .orchestrations import EventType, HistoryEvent, Notify
from .runtime import REASON, HostRuntime

__all__ = ["MAX_BATCH", "EntityEngine"]

MAX_BATCH = 50


_Entry = tuple[str, str, str, asyncio.Future[None]]
"""One request waiting to be saved: hub, scheduler id, the request's JSON, its caller's future."""


class EntityEngine:
    """Entity batches for the host's own task hub."""

    def __init__(self, runtime: HostRuntime, functions: DurableFunctions, store: DurableStore,
                 in_store: StoreCall, hub: str,
                 report: Callable[[sqlite3.Error, str, str, str], None],
                 dispatch: Callable[[Iterable[Wake]], None]) -> None:
        self.runtime = runtime
        self.functions = functions
        self.store = store
        self.in_store = in_store
        self.hub = hub
        self.report = report
        """Logs a store failure plainly, once per kind (DurableRuntime.store_failure)."""
        self.dispatch = dispatch
        """Starts the workers of saved requests (DurableRuntime.dispatch)."""
        self._volatile: dict[str, list[str]] = {}
        """Entity requests whose durable queueing failed (disk full): run from memory."""
        self._group: list[_Entry] | None = None
        """The requests queued in this turn of the loop; a task saves them at the next."""
        self.saving: set[asyncio.Task[list[Wake]]] = set()

    async def queue(self, hub: str, scheduler_id: str, op: Operation) -> None:
        """Queue one request and start its entity's worker; returns once it is saved (in
        memory, logged, when the store cannot be written).

        The requests queued in one turn of the loop are saved in one transaction: a commit
        costs more than the rows it carries (35 µs for one signal alone, 12 µs each for ten
        together, benchmarks/RESULTS.md).
        """
        request = encode_request(op)
        try:
            request.encode()
        except UnicodeEncodeError:  # a lone surrogate (a JSON escape): SQLite cannot store it
            raise EntityError("the signal's input holds an unpaired surrogate",
                              status_hint=400) from None
        saved: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (hub, scheduler_id, request, saved)
        if self._group is not None:
            self._group.append(entry)
        else:  # the first of this turn; appended before the task exists, so it is in its group
            group = self._group = [entry]
            task = asyncio.get_running_loop().create_task(self._save(group))
            self.saving.add(task)
            task.add_done_callback(self.saving.discard)
            task.add_done_callback(functools.partial(self._settle, group))
        await saved

    async def _save(self, group: list[_Entry]) -> list[Wake]:
        if self._group is group:  # requests from now on form the next group
            self._group = None
        return await self.in_store(self.store.queue_entity_requests,
                                   [(hub, target, text) for hub, target, text, _ in group],
                                   utc_now())

    def _settle(self, group: list[_Entry], task: asyncio.Task[list[Wake]]) -> None:
        """Answer each caller of ``group`` and start the workers, whoever is still waiting: a
        caller that went away (cancelled) still has its request run."""
        if self._group is group:  # cancelled before it started
            self._group = None
        error: BaseException | None = (
            EntityError("the host is stopping: the signal was not saved", status_hint=503)
            if task.cancelled() else task.exception())
        if error is None:
            self.dispatch(task.result())
            for *_, saved in group:
                if not saved.done():
                    saved.set_result(None)
            return
        for hub, target, request, saved in group:
            outcome: BaseException | None = error
            if isinstance(error, sqlite3.Error):
                try:
                    self.dispatch([self._in_memory(hub, target, request, error)])
                    outcome = None
                except EntityError as exc:
                    outcome = exc
            if saved.done():
                continue
            if outcome is None:
                saved.set_result(None)
            else:
                saved.set_exception(outcome)

    def _in_memory(self, hub: str, scheduler_id: str, request: str, exc: sqlite3.Error) -> Wake:
        """Keep a request the store could not save, to run from memory (its own hub only)."""
        if hub.lower() != self.hub.lower():
            raise EntityError(f"cannot queue the signal: {exc}", status_hint=503) from exc
        self.report(exc, "entity-queue", f"entity {printable(scheduler_id)}: cannot queue "
                    f"a signal", "; it runs from memory and is lost if the host stops first")
        self._volatile.setdefault(scheduler_id, []).append(request)
        return Wake(hub.lower(), ENTITY, scheduler_id, utc_now())

    async def run(self, scheduler_id: str) -> list[Wake] | None:
        """Run one batch of ``@name@key``; None when there was nothing to run."""
        name, key = split_scheduler_id(scheduler_id)
        info = self.functions.entities.get(name)
        if info is None:  # the app no longer has this entity: its requests wait in the store
            host_logger.warning("entity %s: no entity function named '%s'; its requests stay "
                                "queued", printable(scheduler_id), printable(name))
            return None
        volatile = self._volatile.pop(scheduler_id, [])
        try:
            rows, record = await self.in_store(self.store.take_entity_batch, self.hub,
                                               scheduler_id, name, key, MAX_BATCH)
        except sqlite3.Error as exc:
            self._lost(scheduler_id, exc, len(volatile))
            return None
        texts = [text for _, text in rows] + volatile
        if not texts:
            return None
        batch = []
        for text in texts:
            try:
                batch.append(decode_request(text))
            except EntityError as exc:
                host_logger.error("entity %s: dropping a malformed request: %s",
                                  printable(scheduler_id), printable(exc, 500))
        outcome, responses = await self._run_batch(info, name, key, record, batch)
        try:
            return await self.in_store(self.store.commit_entity_batch, self.hub, name, key,
                                       outcome, [seq for seq, _ in rows], responses, utc_now())
        except sqlite3.Error as exc:
            self._lost(scheduler_id, exc, len(volatile))
            return None

    def _lost(self, scheduler_id: str, exc: sqlite3.Error, volatile: int) -> None:
        # Disk full, read-only or locked: say so plainly, keep serving the others.
        self.report(exc, "entity-batch", f"entity {printable(scheduler_id)}: cannot read or "
                    f"save its state", f"; the last saved state is kept, {volatile} "
                    f"operation(s) held in memory are lost")

    async def _run_batch(self, info: FunctionInfo, name: str, key: str, record: EntityRecord,
                         batch: list[Operation]) -> tuple[EntityRecord | None, list[Notify]]:
        """Run one batch: the new state (None: keep it) and the answers to orchestrations."""
        body = build_batch_request(name, key, record.exists, record.state, batch)
        try:
            returned = await self.runtime.invoker.invoke(
                info, {info.trigger.name: func.EntityContext(body)}, reason=REASON,
                invocation_id=str(uuid.uuid4()))
            assert isinstance(returned, InvocationResult)
            result = parse_batch_result(returned.return_value, len(batch))
        except FunctionsHostError as exc:
            host_logger.error("entity @%s@%s: batch of %d operation(s) failed, state kept: %s",
                              printable(name.lower()), printable(key), len(batch),
                              printable(exc, 500))
            return None, _responses(batch, [(str(exc), True)] * len(batch))
        for op, item in zip(batch, result.results, strict=True):
            if item.is_error:
                self.runtime.refusals.warning(
                    host_logger, f"entity-op:{name.lower()}", "entity @%s@%s: operation '%s' "
                    "failed: %s", printable(name.lower()), printable(key), printable(op.name),
                    printable(item.result, 500))
        answers = [(item.result, item.is_error) for item in result.results]
        return EntityRecord(result.exists, result.state), _responses(batch, answers)


def _responses(batch: list[Operation], answers: list[tuple[str | None, bool]]) -> list[Notify]:
    now = utc_now()
    return [Notify(op.parent, HistoryEvent(kind=EventType.EVENT_RAISED, timestamp=now,
                                           name=op.id, input=encode_response(result, error)),
                   execution_id=op.parent_execution)
            for op, (result, error) in zip(batch, answers, strict=True)
            if not op.is_signal and op.parent]
