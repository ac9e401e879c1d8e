"""The entity shell: queue requests durably, run one batch with the SDK's handler, commit.

Requests from clients and orchestrations are queued in the store (docs/durable.md "Entities");
a batch takes up to 50 of them in order, runs the app's entity function once through the
SDK's own ``Entity.create`` handle, and commits the new state, the consumed requests and the
answers to calling orchestrations in one transaction. When the store cannot be written (disk
full), requests are kept in memory, and each lost write is logged plainly.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import Callable

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


class EntityEngine:
    """Entity batches for the host's own task hub."""

    def __init__(self, runtime: HostRuntime, functions: DurableFunctions, store: DurableStore,
                 in_store: StoreCall, hub: str,
                 report: Callable[[sqlite3.Error, str, str, str], None]) -> None:
        self.runtime = runtime
        self.functions = functions
        self.store = store
        self.in_store = in_store
        self.hub = hub
        self.report = report
        """Logs a store failure plainly, once per kind (DurableRuntime.store_failure)."""
        self._volatile: dict[str, list[str]] = {}
        """Entity requests whose durable queueing failed (disk full): run from memory."""
        self._unsaved: list[tuple[str, str, str, asyncio.Future[Wake]]] = []
        """Requests queued in this turn of the loop, saved together at the next."""
        self._saving: set[asyncio.Task[None]] = set()

    async def queue(self, hub: str, scheduler_id: str, op: Operation) -> Wake:
        """Queue one request (in memory, logged, when the store cannot be written).

        It returns once the request is saved. The requests queued in one turn of the loop are
        saved in one transaction: its commit costs more than the inserts it carries (35 µs for
        one signal alone, 12 µs each ten at a time, benchmarks/RESULTS.md).
        """
        request = encode_request(op)
        loop = asyncio.get_running_loop()
        saved: asyncio.Future[Wake] = loop.create_future()
        if not self._unsaved:  # the task's first step runs at the next turn
            task = loop.create_task(self._save_unsaved())
            self._saving.add(task)
            task.add_done_callback(self._saving.discard)
        self._unsaved.append((hub, scheduler_id, request, saved))
        try:
            return await saved
        except sqlite3.Error as exc:
            if hub.lower() != self.hub.lower():
                raise EntityError(f"cannot queue the signal: {exc}", status_hint=503) from exc
            self.report(exc, "entity-queue", f"entity {printable(scheduler_id)}: cannot queue "
                        f"a signal", "; it runs from memory and is lost if the host stops first")
            self._volatile.setdefault(scheduler_id, []).append(request)
            return Wake(hub.lower(), ENTITY, scheduler_id, utc_now())

    async def _save_unsaved(self) -> None:
        batch, self._unsaved = self._unsaved, []
        try:
            wakes = await self.in_store(self.store.queue_entity_requests,
                                        [(hub, target, text) for hub, target, text, _ in batch],
                                        utc_now())
        except asyncio.CancelledError:
            for *_, saved in batch:
                saved.cancel()
            raise
        except Exception as exc:  # each caller hears it (sqlite3.Error: it runs from memory)
            for *_, saved in batch:
                if not saved.done():
                    saved.set_exception(exc)
            return
        for (*_, saved), wake in zip(batch, wakes, strict=True):
            if not saved.done():  # its caller may have been cancelled; the request stays
                saved.set_result(wake)

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
