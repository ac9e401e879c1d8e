"""The extension's replay of an orchestrator's actions, with DTFx's bookkeeping. Pure.

``Walk.run_all`` invokes the actions in order the way ``OutOfProcOrchestrationShim`` does,
awaiting each before the next; every scheduling call takes the next sequence number and is
matched with the history (docs/durable.md "Replay"). What it scheduled, what is still open and
whether the recorded history agrees is then read off the walk.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from .actions import Action, ActionType, OrchestratorResult, RetryPolicy
from .history import EventType, HistoryEvent

__all__ = ["ENTITY_EVENT_NAME", "Episode", "Known", "Op", "ReplayFailure", "Scheduled", "Walk",
           "compact_json", "unknown_function_message"]


def compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


SCHEDULING = (EventType.TASK_SCHEDULED, EventType.TIMER_CREATED,
              EventType.SUB_ORCHESTRATION_INSTANCE_CREATED, EventType.EVENT_SENT)
OUTCOMES = (EventType.TASK_COMPLETED, EventType.TASK_FAILED,
            EventType.SUB_ORCHESTRATION_INSTANCE_COMPLETED,
            EventType.SUB_ORCHESTRATION_INSTANCE_FAILED, EventType.TIMER_FIRED)
FAILURES = (EventType.TASK_FAILED, EventType.SUB_ORCHESTRATION_INSTANCE_FAILED)
ENTITY_EVENT_NAME = "op"
"""The event name of every message to an entity (EntityMessageEventNames)."""
_DTFX_ACTION = {EventType.TASK_SCHEDULED: "ScheduleTaskOrchestratorAction",
                EventType.TIMER_CREATED: "CreateTimerOrchestratorAction",
                EventType.SUB_ORCHESTRATION_INSTANCE_CREATED: "CreateSubOrchestrationAction",
                EventType.EVENT_SENT: "SendEventOrchestratorAction"}
_CHANGED = ("Was a change made to the orchestrator code after this instance had already started "
            "running?")


@dataclass(frozen=True)
class Known:
    """The app's durable functions by kind, for the extension's existence checks."""

    activities: tuple[str, ...] = ()
    orchestrators: tuple[str, ...] = ()
    entities: tuple[str, ...] = ()

    def find(self, kind: str, name: str) -> str | None:
        names = {"activity": self.activities, "orchestrator": self.orchestrators,
                 "entity": self.entities}[kind]
        return next((n for n in names if n.lower() == name.lower()), None)


def unknown_function_message(kind: str, name: str, known: Known) -> str:
    """The extension's ``GetInvalid{Activity,Orchestrator,Entity}FunctionMessage``."""
    names = {"activity": known.activities, "orchestrator": known.orchestrators,
             "entity": known.entities}[kind]
    text = (f"The function '{name}' doesn't exist, is disabled, or is not an {kind} function. "
            f"Additional info: ")
    if names:
        listed = "', '".join(names)
        return text + f"The following are the known {kind} functions: '{listed}'."
    return text + f"No {kind} functions are currently registered!"


@dataclass(frozen=True)
class Episode:
    """Everything one run of an orchestrator needs; ``new`` starts with OrchestratorStarted."""

    instance_id: str
    execution_id: str
    name: str
    input: str | None
    """The instance's input as stored (a JSON text)."""
    past: tuple[HistoryEvent, ...]
    new: tuple[HistoryEvent, ...]
    now: datetime
    parent: Mapping[str, Any] | None = None
    """A sub-orchestration's parent: ``instance_id``, ``execution_id``, ``task_id``, ``name``."""


class Op(Enum):
    TASK = EventType.TASK_SCHEDULED
    TIMER = EventType.TIMER_CREATED
    SUB = EventType.SUB_ORCHESTRATION_INSTANCE_CREATED
    SEND = EventType.EVENT_SENT


@dataclass(frozen=True)
class Scheduled:
    """A scheduling call the replay made: what DTFx keeps in ``orchestratorActionsMap``."""

    op: Op
    id: int
    name: str | None = None
    input: str | None = None
    instance_id: str | None = None
    fire_at: datetime | None = None
    request: str | None = None


class ReplayFailure(Exception):
    """The replay itself threw (an unknown function, a bad sub-orchestration id, call_http)."""


@dataclass
class Walk:
    """One replay of the actions against the history."""

    episode: Episode
    known: Known
    new_id: Callable[[], str]
    counter: int = 0
    scheduled: dict[int, Scheduled] = field(default_factory=dict)
    open: set[int] = field(default_factory=set)
    continue_input: str | None = None
    continued: bool = False

    def __post_init__(self) -> None:
        self.recorded: dict[int, HistoryEvent] = {}
        self.outcomes: dict[int, tuple[HistoryEvent, datetime]] = {}
        self.raised: dict[str, list[HistoryEvent]] = {}
        self.by_name: dict[str, HistoryEvent] = {}
        moment = self.episode.now
        for event in (*self.episode.past, *self.episode.new):
            if event.kind == EventType.ORCHESTRATOR_STARTED:
                moment = event.timestamp
            elif event.kind in SCHEDULING:
                self.recorded.setdefault(event.event_id, event)
            elif event.kind in OUTCOMES and event.task_id is not None:
                self.outcomes.setdefault(event.task_id, (event, moment))
            elif event.kind == EventType.EVENT_RAISED and event.name is not None:
                self.raised.setdefault(event.name.lower(), []).append(event)
                self.by_name.setdefault(event.name, event)

    # -- scheduling ------------------------------------------------------------------------
    def _take_id(self) -> int:
        number = self.counter
        self.counter += 1
        return number

    def _require(self, kind: str, name: str | None) -> str:
        found = self.known.find(kind, name or "")
        if found is None:
            raise ReplayFailure(unknown_function_message(kind, name or "", self.known))
        return found

    def _outcome(self, number: int) -> tuple[HistoryEvent, datetime] | None:
        found = self.outcomes.get(number)
        if found is None:
            self.open.add(number)
        return found

    def _timer(self, fire_at: datetime) -> bool:
        number = self._take_id()
        recorded = self.recorded.get(number)
        when = recorded.fire_at if recorded is not None and recorded.fire_at else fire_at
        self.scheduled[number] = Scheduled(Op.TIMER, number, fire_at=when)
        return self._outcome(number) is not None

    def _call(self, action: Action) -> tuple[bool, bool, datetime | None]:
        """Schedule one attempt: (done, failed, when the outcome was processed)."""
        number = self._take_id()
        if action.type in (ActionType.CALL_ACTIVITY, ActionType.CALL_ACTIVITY_WITH_RETRY):
            self.scheduled[number] = Scheduled(Op.TASK, number, action.name, action.input)
        else:
            recorded = self.recorded.get(number)
            instance = (recorded.instance_id if recorded is not None and recorded.instance_id
                        else action.instance_id or f"{self.episode.execution_id}:{number}")
            self.scheduled[number] = Scheduled(Op.SUB, number, action.name,
                                                compact_json(action.input), instance_id=instance)
        found = self._outcome(number)
        if found is None:
            return False, False, None
        return True, found[0].kind in FAILURES, found[1]

    def _with_retry(self, action: Action, policy: RetryPolicy) -> bool:
        """DTFx RetryInterceptor: a timer between attempts, and one after the last failure."""
        first: datetime | None = None
        for attempt in range(policy.max_attempts):
            done, failed, when = self._call(action)
            if not done:
                return False
            if not failed:
                return True
            assert when is not None
            first = first or when
            if attempt + 1 == policy.max_attempts:
                return self._timer(when)
            delay = policy.delay_ms(attempt)
            if policy.timeout_ms is not None and when >= first + timedelta(
                    milliseconds=policy.timeout_ms):
                delay = 0
            if delay <= 0:
                return True
            if not self._timer(when + timedelta(milliseconds=delay)):
                return False
        return True

    def _entity(self, action: Action, signal: bool) -> bool:
        scheduler_id = action.instance_id or ""
        name = scheduler_id[1:].split("@", 1)[0] if scheduler_id.startswith("@") else ""
        self._require("entity", name)
        number = self._take_id()
        recorded = self.recorded.get(number)
        request_id = None
        if recorded is not None and recorded.input:
            try:
                request_id = json.loads(recorded.input).get("id")
            except (ValueError, AttributeError):
                request_id = None
        request_id = request_id or self.new_id()
        message: dict[str, Any] = {"op": action.name}
        if signal:
            message["signal"] = True
        if action.input is not None:
            message["input"] = compact_json(action.input)
        message.update(id=request_id, parent=self.episode.instance_id,
                       parentExecution=self.episode.execution_id)
        self.scheduled[number] = Scheduled(Op.SEND, number, ENTITY_EVENT_NAME,
                                            instance_id=scheduler_id, request=compact_json(message))
        return signal or request_id in self.by_name

    def _sub_orchestration_checks(self, action: Action) -> None:
        self._require("orchestrator", action.name)
        wanted = action.instance_id
        parent = (self.episode.parent or {}).get("instance_id")
        if wanted and (wanted.lower() == self.episode.instance_id.lower()
                       or (parent and wanted.lower() == str(parent).lower())):
            raise ReplayFailure("The instance ID of a sub-orchestration must be different than the "
                           "instance ID of a parent orchestration.")
        if wanted and wanted.startswith("@"):
            raise ReplayFailure("Orchestration instance ids must not start with @")

    # -- the replay loop --------------------------------------------------------------------
    def run(self, action: Action) -> bool:
        """Invoke one action (as InvokeAPIFromAction); True once its task has completed."""
        kind = action.type
        if kind in (ActionType.CALL_ACTIVITY, ActionType.CALL_ACTIVITY_WITH_RETRY):
            self._require("activity", action.name)
        elif kind in (ActionType.CALL_SUB_ORCHESTRATOR,
                      ActionType.CALL_SUB_ORCHESTRATOR_WITH_RETRY):
            self._sub_orchestration_checks(action)
        if kind in (ActionType.CALL_ACTIVITY, ActionType.CALL_SUB_ORCHESTRATOR):
            return self._call(action)[0]
        if action.retry is not None:
            return self._with_retry(action, action.retry)
        if kind == ActionType.CREATE_TIMER:
            assert action.fire_at is not None
            done = self._timer(action.fire_at)
            if action.canceled:
                self.open.discard(self.counter - 1)
                return True
            return done
        if kind == ActionType.WAIT_FOR_EXTERNAL_EVENT:
            waiting = self.raised.get((action.name or "").lower(), [])
            if waiting:
                waiting.pop(0)
                return True
            return False
        if kind in (ActionType.CALL_ENTITY, ActionType.SIGNAL_ENTITY,
                    ActionType.SCHEDULED_SIGNAL_ENTITY):
            return self._entity(action, signal=kind != ActionType.CALL_ENTITY)
        if kind == ActionType.CONTINUE_AS_NEW:
            self.continued, self.continue_input = True, action.input
            return True
        if kind == ActionType.WHEN_ALL:
            return all([self.run(child) for child in action.children])
        if kind == ActionType.WHEN_ANY:
            results = [self.run(child) for child in action.children]
            return any(results) or not results
        raise ReplayFailure("call_http (durable HTTP) is not supported by the local host; call the "
                       "URL from an activity function instead")

    def run_all(self, result: OrchestratorResult) -> bool:
        if result.schema == 0:
            for group in result.episodes:
                awaited = [self.run(a) for a in group
                           if a.type not in (ActionType.SIGNAL_ENTITY,
                                             ActionType.CONTINUE_AS_NEW)]
                if awaited and not any(awaited):
                    return False
            return True
        return all(self.run(action) for action in result.actions)

    # -- DTFx's checks of the recorded history -----------------------------------------------
    def nondeterminism(self) -> str | None:
        for number, event in sorted(self.recorded.items()):
            made = self.scheduled.get(number)
            if made is None:
                return _not_yet_scheduled(event)
            if made.op.value != event.kind:
                return (f"A previous execution of this orchestration scheduled "
                        f"{_what(event)} with sequence number {number}, but the current "
                        f"orchestration replay instead produced a {_DTFX_ACTION[made.op.value]} "
                        f"action with this sequence number. {_CHANGED}")
            if made.op in (Op.TASK, Op.SUB, Op.SEND) and (
                    (made.name or "").lower() != (event.name or "").lower()):
                noun = {Op.TASK: "an activity task", Op.SUB: "a sub-orchestration task",
                        Op.SEND: "a send event task"}[made.op]
                return (f"A previous execution of this orchestration scheduled {_what(event)} "
                        f"with sequence number {number}, but the current orchestration replay "
                        f"instead scheduled {noun} named '{made.name}' with this sequence "
                        f"number. {_CHANGED}")
        return None


def _what(event: HistoryEvent) -> str:
    if event.kind == EventType.TASK_SCHEDULED:
        return f"an activity task named '{event.name}'"
    if event.kind == EventType.SUB_ORCHESTRATION_INSTANCE_CREATED:
        return (f"a sub-orchestration task named '{event.name}' (instance ID "
                f"'{event.instance_id}')")
    if event.kind == EventType.EVENT_SENT:
        return f"a send event task named '{event.name}' (instance ID '{event.instance_id}')"
    return "a timer task"


def _not_yet_scheduled(event: HistoryEvent) -> str:
    return (f"A previous execution of this orchestration scheduled {_what(event)} with sequence "
            f"number {event.event_id}, but the current replay execution hasn't (yet?) scheduled "
            f"this task. {_CHANGED}")
