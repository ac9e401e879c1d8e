"""The orchestration shell: run one episode of an instance, run one activity, commit the outcome.

The pure core (``orchestrations``) decides; this module reads the store, calls the app's
functions the way the Python worker would (the orchestrator through the SDK's own
``Orchestrator.create`` handle with the context JSON the extension sends, activities through the
worker's ``activityTrigger`` converter) and commits what the core decided, in one transaction.
Scheduling (which instance runs when, timers, shutdown) is :class:`~.durable.DurableRuntime`'s.
"""

from __future__ import annotations

import json
import traceback
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

import azure.functions as func
from azure.functions import meta
from azure.functions.durable_functions import ActivityTriggerConverter

from ..errors import DurableError, FunctionsHostError, InvocationError
from ..logs import printable
from .durable_store import ActivityItem, DurableStore, Wake
from .indexing import FunctionInfo
from .invoke import InvocationResult
from .log import host_logger
from .orchestrations import (
    Decision,
    Episode,
    EventType,
    HistoryEvent,
    InstanceRecord,
    Known,
    OrchestrationStatus,
    OrchestratorResult,
    context_json,
    decide,
    decide_failure,
    decide_terminated,
    parse_orchestrator_result,
    unknown_function_message,
)
from .runtime import REASON, HostRuntime

__all__ = ["DurableFunctions", "OrchestrationEngine", "durable_name", "new_execution_id",
           "utc_now"]

T = TypeVar("T")
OUT_OF_PROC_DATA = "\n\n$OutOfProcData$:"
"""Where the SDK puts the orchestration state in the exception a failing orchestrator raises."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_execution_id() -> str:
    return uuid.uuid4().hex


def _ids() -> Iterator[str]:
    while True:
        yield new_execution_id()


class StoreCall(Protocol):
    def __call__(self, call: Callable[..., T], *args: Any, **kwargs: Any) -> Awaitable[T]: ...


@dataclass(frozen=True)
class DurableFunctions:
    """The app's orchestrators, activities and entities by lower-cased durable name."""

    orchestrators: dict[str, FunctionInfo]
    activities: dict[str, FunctionInfo]
    entities: dict[str, FunctionInfo]

    @property
    def known(self) -> Known:
        def names(table: dict[str, FunctionInfo]) -> tuple[str, ...]:
            return tuple(durable_name(info) for info in table.values())
        return Known(names(self.activities), names(self.orchestrators), names(self.entities))


def durable_name(info: FunctionInfo) -> str:
    """The name orchestrations and clients use: the trigger's own name, else the function's."""
    trigger = info.trigger
    name = {"orchestrationtrigger": trigger.get("orchestration"),
            "activitytrigger": trigger.get("activity"),
            "entitytrigger": trigger.get("entityName")}.get(trigger.kind)
    return str(name or info.name)


def _compact(text: str) -> str:
    """The JSON text as the extension re-serializes a JSON datum (compact; as is if not JSON)."""
    try:
        return json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)
    except (ValueError, RecursionError):
        return text


class OrchestrationEngine:
    """Episodes and activities for the host's own task hub."""

    def __init__(self, runtime: HostRuntime, functions: DurableFunctions, store: DurableStore,
                 in_store: StoreCall, hub: str,
                 client_inputs: Callable[[FunctionInfo], dict[str, Any]]) -> None:
        self.runtime = runtime
        self.functions = functions
        self.store = store
        self.in_store = in_store
        self.hub = hub
        self.client_inputs = client_inputs

    # -- orchestrations ------------------------------------------------------------------------
    async def run_instance(self, instance_id: str) -> list[Wake] | None:
        """Run one episode with the instance's visible messages (None: nothing to do)."""
        now = utc_now()
        messages = await self.in_store(self.store.take_messages, self.hub, instance_id, now)
        if not messages:
            return None
        record = await self.in_store(self.store.load_instance, self.hub, instance_id)
        current = [(seq, event) for seq, execution, event in messages
                   if record is not None and execution in (None, record.execution_id)]
        if record is None or record.status.is_terminal or not current:
            # Late outcomes, fired timers or events of an instance that ended (or was purged).
            await self.in_store(self.store.drop_messages, [seq for seq, _, _ in messages])
            return []
        stale = [seq for seq, execution, _ in messages
                 if execution not in (None, record.execution_id)]
        consumed, events, control = self._select(record, current)
        if not consumed:
            return None
        past = tuple(await self.in_store(self.store.load_history, self.hub, instance_id))
        started = HistoryEvent(kind=EventType.ORCHESTRATOR_STARTED, timestamp=now)
        episode = Episode(instance_id=instance_id, execution_id=record.execution_id,
                          name=record.name, input=record.input, past=past,
                          new=(started, *events), now=now, parent=record.parent)
        if control == EventType.EXECUTION_TERMINATED:
            reason = next((e.input for e in events
                           if e.kind == EventType.EXECUTION_TERMINATED), None)
            decision = decide_terminated(episode, reason)
        elif control is not None:
            status = (OrchestrationStatus.SUSPENDED if control == EventType.EXECUTION_SUSPENDED
                      else OrchestrationStatus.RUNNING)
            decision = Decision(events=episode.new, status=status,
                                custom_status=record.custom_status)
        else:
            decision = await self._episode(episode)
        wakes = await self.in_store(self.store.commit_episode, self.hub, record,
                                    [*stale, *consumed], decision, now, _ids())
        self._log(record, decision)
        return wakes

    @staticmethod
    def _select(record: InstanceRecord, messages: list[tuple[int, HistoryEvent]]
                ) -> tuple[list[int], list[HistoryEvent], EventType | None]:
        """The messages this episode takes: a termination ends everything; a suspension or a
        resumption is an episode of its own; while suspended, other messages wait."""
        controls = (EventType.EXECUTION_TERMINATED, EventType.EXECUTION_SUSPENDED,
                    EventType.EXECUTION_RESUMED)
        for _, event in messages:
            if event.kind == EventType.EXECUTION_TERMINATED:
                return [s for s, _ in messages], [e for _, e in messages], event.kind
        if record.status == OrchestrationStatus.SUSPENDED:
            resume = next(((s, e) for s, e in messages
                           if e.kind == EventType.EXECUTION_RESUMED), None)
            return ([resume[0]], [resume[1]], resume[1].kind) if resume else ([], [], None)
        taken: list[tuple[int, HistoryEvent]] = []
        for seq, event in messages:
            if event.kind in controls:
                if taken:
                    break
                if event.kind == EventType.EXECUTION_RESUMED:  # not suspended: nothing to do
                    return [seq], [], None
                return [seq], [event], event.kind
            taken.append((seq, event))
        return [s for s, _ in taken], [e for _, e in taken], None

    async def _episode(self, episode: Episode) -> Decision:
        info = self.functions.orchestrators.get(episode.name.lower())
        known = self.functions.known
        if info is None:
            return decide_failure(episode, unknown_function_message("orchestrator", episode.name,
                                                                    known))
        try:
            result = await self._call_orchestrator(info, episode)
        except DurableError as exc:
            return decide_failure(episode, f"Orchestrator function '{episode.name}' failed: {exc}")
        return decide(episode, result, known, lambda: str(uuid.uuid4()))

    async def _call_orchestrator(self, info: FunctionInfo, episode: Episode
                                 ) -> OrchestratorResult:
        body = context_json(episode)
        try:
            returned = await self.runtime.invoker.invoke(
                info, {info.trigger.name: func.OrchestrationContext(body)}, reason=REASON,
                invocation_id=str(uuid.uuid4()))
        except InvocationError as exc:
            message = str(exc.__cause__ or exc)
            if OUT_OF_PROC_DATA in message:  # the SDK's failure, with its state attached
                return parse_orchestrator_result(message.split(OUT_OF_PROC_DATA, 1)[1])
            cause = exc.__cause__
            text = f"{type(cause).__name__}: {cause}" if cause is not None else str(exc)
            raise DurableError(text) from exc
        except FunctionsHostError as exc:
            raise DurableError(str(exc)) from exc
        assert isinstance(returned, InvocationResult)
        return parse_orchestrator_result(returned.return_value)

    @staticmethod
    def _log(record: InstanceRecord, decision: Decision) -> None:
        if decision.status == OrchestrationStatus.FAILED:
            host_logger.warning("orchestration %s (%s) failed: %s", printable(record.instance_id),
                                printable(record.name), printable(decision.output, 500))
        elif decision.status.is_terminal or decision.status in (
                OrchestrationStatus.CONTINUED_AS_NEW, OrchestrationStatus.SUSPENDED):
            host_logger.info("orchestration %s (%s) %s", printable(record.instance_id),
                             printable(record.name), decision.status.title)

    # -- activities ----------------------------------------------------------------------------
    async def run_activity(self, item: ActivityItem) -> Wake | None:
        """Run one activity work item and answer its orchestration."""
        work = item.work
        task_id = work.task_id
        try:
            result = await self._call_activity(work.name, work.input)
            outcome = HistoryEvent(kind=EventType.TASK_COMPLETED, timestamp=utc_now(),
                                   task_id=task_id, result=result)
        except _ActivityFailed as failed:
            outcome = HistoryEvent(kind=EventType.TASK_FAILED, timestamp=utc_now(),
                                   task_id=task_id, reason=failed.reason, details=failed.details)
        return await self.in_store(self.store.complete_activity, item, outcome, utc_now())

    async def _call_activity(self, name: str, text: str | None) -> str:
        info = self.functions.activities.get(name.lower())
        if info is None:
            message = unknown_function_message("activity", name, self.functions.known)
            raise _ActivityFailed(name, message, None)
        try:
            value = ActivityTriggerConverter.decode(meta.Datum(text, "json"),
                                                    trigger_metadata=None) if text else None
            binding = info.trigger.name
            inputs = await self.runtime.resolve_inputs(info, {binding: value}, value,
                                                       self.client_inputs(info))

            async def finish(done: InvocationResult) -> Any:
                await self.runtime.send_outputs(info, done.outputs, {binding: value})
                return done.return_value

            returned = await self.runtime.invoker.invoke(info, inputs, reason=REASON,
                                                         invocation_id=str(uuid.uuid4()),
                                                         finish=finish)
            encoded = ActivityTriggerConverter.encode(returned, expected_type=None)
        except InvocationError as exc:
            cause = exc.__cause__
            friendly = f"{type(cause).__name__}: {cause}" if cause is not None else str(exc)
            raise _ActivityFailed(durable_name(info), friendly, cause) from exc
        except (FunctionsHostError, ValueError, TypeError) as exc:
            raise _ActivityFailed(durable_name(info), f"{type(exc).__name__}: {exc}",
                                  exc) from exc
        return _compact(str(encoded.value))


class _ActivityFailed(Exception):
    """An activity failed: the TaskFailed ``Reason`` and ``Details`` (TaskActivityShim)."""

    def __init__(self, name: str, message: str, cause: BaseException | None) -> None:
        super().__init__(message)
        self.reason = f"Activity function '{name}' failed: {message}"
        stack = "".join(traceback.format_exception(cause)) if cause is not None else None
        self.details = json.dumps({"$type": "System.Exception, System.Private.CoreLib",
                                   "ClassName": "System.Exception", "Message": message,
                                   "StackTraceString": stack})
