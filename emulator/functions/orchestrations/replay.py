"""One orchestration episode: history + the SDK's answer -> new history, work and status. Pure.

This is what the Durable extension and DTFx do with an out-of-process orchestrator's answer
(docs/durable.md "Replay"): the extension *replays* the actions in order against DTFx, awaiting
each one before invoking the next (``ProcessAsyncActionsV2``); every activity, timer,
sub-orchestration and entity message takes the next sequence number (DTFx ``idCounter``); an
action whose number is already in the history is matched against the recorded event, and a
mismatch is a non-deterministic replay that fails the instance; the others are new work. The
instance completes only once the orchestrator says it is done *and* no activity, timer or
sub-orchestration is still open (DTFx ``TaskOrchestrationExecutor``).

No clock and no randomness: the episode carries ``now``, and ``new_id`` makes request ids.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .actions import OrchestratorResult
from .history import EventType, HistoryEvent, OrchestrationStatus
from .walk import (
    Episode,
    Known,
    Op,
    ReplayFailure,
    Scheduled,
    Walk,
    compact_json,
    unknown_function_message,
)

__all__ = [
    "ActivityWork",
    "Decision",
    "EntityRequest",
    "Episode",
    "Known",
    "Notify",
    "StartInstance",
    "context_json",
    "decide",
    "decide_failure",
    "decide_terminated",
    "unknown_function_message",
]

# Azure Storage's limits, handed to the SDK so long timers are split like on Azure.
MAXIMUM_SHORT_TIMER = "6.00:00:00"
LONG_TIMER_INTERVAL = "3.00:00:00"


@dataclass(frozen=True)
class ActivityWork:
    """Run activity ``name`` on ``input``; answer TaskCompleted/TaskFailed for ``task_id``."""

    task_id: int
    name: str
    input: str | None


@dataclass(frozen=True)
class Notify:
    """Deliver ``event`` to orchestration ``instance_id`` (``visible_at``: a durable timer)."""

    instance_id: str
    event: HistoryEvent
    visible_at: datetime | None = None
    execution_id: str | None = None
    """Only that execution takes it (an answer to a parent, to an entity call)."""


@dataclass(frozen=True)
class StartInstance:
    """Create (or restart) orchestration ``instance_id`` with an ExecutionStarted message."""

    instance_id: str
    name: str
    input: str | None
    parent: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class EntityRequest:
    """Deliver the extension's RequestMessage JSON ``request`` to entity ``scheduler_id``."""

    scheduler_id: str
    request: str


Outgoing = ActivityWork | Notify | StartInstance | EntityRequest


@dataclass(frozen=True)
class Decision:
    """What to commit, in one transaction, after the episode."""

    events: tuple[HistoryEvent, ...]
    """Appended to this execution's history (unless ``continue_as_new`` resets it)."""
    status: OrchestrationStatus
    output: str | None = None
    """Completed: the output's JSON text; Failed/Terminated: the reason, as text."""
    custom_status: str | None = None
    outgoing: tuple[Outgoing, ...] = ()
    continue_as_new: str | None = None
    """With status ContinuedAsNew: the next execution's input."""


def context_json(episode: Episode) -> str:
    """The orchestration trigger value (OrchestrationTriggerAttributeBindingProvider)."""
    history = ([e.to_json(played=True) for e in episode.past]
               + [e.to_json(played=False) for e in episode.new])
    try:
        value = None if episode.input is None else json.loads(episode.input)
    except ValueError:
        value = episode.input
    started_in_past = any(e.kind == EventType.EXECUTION_STARTED for e in episode.past)
    return compact_json({
        "history": history,
        "input": value,
        "instanceId": episode.instance_id,
        "isReplaying": started_in_past,
        "parentInstanceId": (episode.parent or {}).get("instance_id"),
        "upperSchemaVersion": 1,
        "upperSchemaVersionNew": 2,
        "longRunningTimerIntervalDuration": LONG_TIMER_INTERVAL,
        "maximumShortTimerDuration": MAXIMUM_SHORT_TIMER,
        "defaultHttpAsyncRequestSleepTimeMillseconds": 30000,
    })


def _scheduling_event(made: Scheduled, now: datetime) -> tuple[HistoryEvent, Outgoing | None]:
    """The history event DTFx records for a new call, and the work it sends."""
    if made.op == Op.TASK:
        return (HistoryEvent(kind=EventType.TASK_SCHEDULED, timestamp=now, event_id=made.id,
                             name=made.name, input=made.input),
                ActivityWork(made.id, made.name or "", made.input))
    if made.op == Op.TIMER:
        assert made.fire_at is not None
        return HistoryEvent(kind=EventType.TIMER_CREATED, timestamp=now, event_id=made.id,
                            fire_at=made.fire_at), None
    if made.op == Op.SUB:
        return (HistoryEvent(kind=EventType.SUB_ORCHESTRATION_INSTANCE_CREATED, timestamp=now,
                             event_id=made.id, name=made.name, input=made.input,
                             instance_id=made.instance_id), None)
    return (HistoryEvent(kind=EventType.EVENT_SENT, timestamp=now, event_id=made.id,
                         name=made.name, input=made.request, instance_id=made.instance_id),
            EntityRequest(made.instance_id or "", made.request or "{}"))


def _finish(episode: Episode, events: list[HistoryEvent], status: OrchestrationStatus,
            output: str | None, outgoing: list[Outgoing], custom_status: str | None = None,
            details: str | None = None) -> Decision:
    """Close the episode with the instance's final status and tell the parent, if any."""
    events.append(HistoryEvent(kind=EventType.EXECUTION_COMPLETED, timestamp=episode.now,
                               event_id=-1, status=status, result=output, details=details))
    parent = episode.parent
    if parent:
        task_id = int(parent["task_id"])
        if status == OrchestrationStatus.COMPLETED:
            event = HistoryEvent(kind=EventType.SUB_ORCHESTRATION_INSTANCE_COMPLETED,
                                 timestamp=episode.now, task_id=task_id, result=output)
        else:
            event = HistoryEvent(kind=EventType.SUB_ORCHESTRATION_INSTANCE_FAILED,
                                 timestamp=episode.now, task_id=task_id, reason=output,
                                 details=details)
        outgoing.append(Notify(str(parent["instance_id"]), event,
                               execution_id=parent.get("execution_id")))
    return Decision(events=tuple(events), status=status, output=output,
                    custom_status=custom_status, outgoing=tuple(outgoing))


def _orchestrator_failed(name: str, message: str) -> str:
    return f"Orchestrator function '{name}' failed: {message}"


def decide(episode: Episode, result: OrchestratorResult, known: Known,
           new_id: Callable[[], str]) -> Decision:
    """Apply the SDK's answer for ``episode``."""
    walk = Walk(episode, known, new_id)
    failure: str | None = None
    try:
        done = walk.run_all(result)
    except ReplayFailure as exc:
        done, failure = True, str(exc)
    events = list(episode.new)
    outgoing: list[Outgoing] = []
    custom = None if result.custom_status is None else compact_json(result.custom_status)
    nondeterministic = walk.nondeterminism()
    if nondeterministic is not None:
        events.append(HistoryEvent(kind=EventType.ORCHESTRATOR_COMPLETED, timestamp=episode.now))
        return _finish(episode, events, OrchestrationStatus.FAILED,
                       f"Non-Deterministic workflow detected: {nondeterministic}", outgoing,
                       custom)
    for number, made in sorted(walk.scheduled.items()):
        if number in walk.recorded:
            continue
        event, work = _scheduling_event(made, episode.now)
        events.append(event)
        if work is not None:
            outgoing.append(work)
        if made.op == Op.TIMER:
            assert made.fire_at is not None
            outgoing.append(Notify(episode.instance_id, HistoryEvent(
                kind=EventType.TIMER_FIRED, timestamp=made.fire_at, task_id=number,
                fire_at=made.fire_at), visible_at=made.fire_at))
        elif made.op == Op.SUB:
            outgoing.append(StartInstance(made.instance_id or "", made.name or "", made.input, {
                "instance_id": episode.instance_id, "execution_id": episode.execution_id,
                "task_id": number, "name": episode.name}))
    events.append(HistoryEvent(kind=EventType.ORCHESTRATOR_COMPLETED, timestamp=episode.now))
    finished = done and not walk.open
    if finished and failure is not None:
        return _finish(episode, events, OrchestrationStatus.FAILED,
                       _orchestrator_failed(episode.name, failure), outgoing, custom)
    if finished and result.error is not None:
        return _finish(episode, events, OrchestrationStatus.FAILED,
                       _orchestrator_failed(episode.name, result.error), outgoing, custom)
    if finished and result.is_done and walk.continued:
        return Decision(events=tuple(events), status=OrchestrationStatus.CONTINUED_AS_NEW,
                        custom_status=custom, outgoing=tuple(outgoing),
                        continue_as_new=compact_json(walk.continue_input))
    if finished and result.is_done:
        return _finish(episode, events, OrchestrationStatus.COMPLETED, compact_json(result.output),
                       outgoing, custom)
    return Decision(events=tuple(events), status=OrchestrationStatus.RUNNING,
                    custom_status=custom, outgoing=tuple(outgoing))


def decide_failure(episode: Episode, message: str) -> Decision:
    """The orchestrator could not run at all (unknown function, not an orchestration state)."""
    events = [*episode.new, HistoryEvent(kind=EventType.ORCHESTRATOR_COMPLETED,
                                         timestamp=episode.now)]
    return _finish(episode, events, OrchestrationStatus.FAILED, message, [])


def decide_terminated(episode: Episode, reason: str | None) -> Decision:
    """``ExecutionTerminated`` arrived: the instance ends without running user code."""
    events = [*episode.new, HistoryEvent(kind=EventType.ORCHESTRATOR_COMPLETED,
                                         timestamp=episode.now)]
    return _finish(episode, events, OrchestrationStatus.TERMINATED, reason, [])
