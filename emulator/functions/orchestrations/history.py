"""Orchestration history events, as the Durable Task Framework records them, pure.

The extension hands an out-of-process orchestrator its whole history (past episodes and the new
events of this one) as the JSON of DTFx's ``HistoryEvent`` classes: PascalCase fields, ``EventType``
as a number, ``Timestamp`` in ISO 8601 (docs/durable.md "The orchestration context"). One frozen
:class:`HistoryEvent` carries every kind; :meth:`HistoryEvent.to_json` writes the fields that kind
has, and :meth:`HistoryEvent.from_json` reads them back (the store keeps that JSON).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

__all__ = [
    "EventType",
    "HistoryEvent",
    "OrchestrationStatus",
    "format_status_time",
    "format_time",
    "history_for_sdk",
    "parse_time",
]


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


class EventType(IntEnum):
    """DTFx ``EventType`` (Azure/durabletask ``src/DurableTask.Core/History/EventType.cs``)."""

    EXECUTION_STARTED = 0
    EXECUTION_COMPLETED = 1
    EXECUTION_FAILED = 2
    EXECUTION_TERMINATED = 3
    TASK_SCHEDULED = 4
    TASK_COMPLETED = 5
    TASK_FAILED = 6
    SUB_ORCHESTRATION_INSTANCE_CREATED = 7
    SUB_ORCHESTRATION_INSTANCE_COMPLETED = 8
    SUB_ORCHESTRATION_INSTANCE_FAILED = 9
    TIMER_CREATED = 10
    TIMER_FIRED = 11
    ORCHESTRATOR_STARTED = 12
    ORCHESTRATOR_COMPLETED = 13
    EVENT_SENT = 14
    EVENT_RAISED = 15
    CONTINUE_AS_NEW = 16
    GENERIC_EVENT = 17
    HISTORY_STATE = 18
    EXECUTION_SUSPENDED = 19
    EXECUTION_RESUMED = 20

    @property
    def title(self) -> str:
        """The .NET enum name (``TaskScheduled``), as ``showHistory`` prints it."""
        return _pascal(self.name)


class OrchestrationStatus(IntEnum):
    """DTFx ``OrchestrationStatus``; the names are the ``runtimeStatus`` strings."""

    RUNNING = 0
    COMPLETED = 1
    CONTINUED_AS_NEW = 2
    FAILED = 3
    CANCELED = 4
    TERMINATED = 5
    PENDING = 6
    SUSPENDED = 7

    @property
    def title(self) -> str:
        """``Running``, ``ContinuedAsNew``... (the extension's ``runtimeStatus``)."""
        return _pascal(self.name)

    @property
    def is_terminal(self) -> bool:
        return self in (OrchestrationStatus.COMPLETED, OrchestrationStatus.FAILED,
                        OrchestrationStatus.CANCELED, OrchestrationStatus.TERMINATED)

    @classmethod
    def from_title(cls, text: str) -> OrchestrationStatus | None:
        """Parse a ``runtimeStatus`` query value case-insensitively (None when unknown)."""
        for status in cls:
            if status.title.lower() == text.strip().lower():
                return status
        return None


def format_time(moment: datetime) -> str:
    """A history timestamp: UTC, microseconds, ``Z`` (what the SDK's parser and writer use)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def format_status_time(moment: datetime) -> str:
    """``createdTime`` / ``lastUpdatedTime``: ``yyyy-MM-ddTHH:mm:ssZ`` (HttpApiHandler)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    """An ISO 8601 time; one without a zone is UTC (the SDK writes ``fireAt`` with a bare ``Z``)."""
    value = datetime.fromisoformat(text.strip())
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True, kw_only=True)
class HistoryEvent:
    """One event; fields that a kind does not have stay None.

    ``task_id`` is ``TaskScheduledId`` for task and sub-orchestration outcomes and ``TimerId`` for
    ``TimerFired``; ``event_id`` is the sequence number of scheduling events (-1 otherwise).
    """

    kind: EventType
    timestamp: datetime
    event_id: int = -1
    name: str | None = None
    input: str | None = None
    result: str | None = None
    task_id: int | None = None
    instance_id: str | None = None
    execution_id: str | None = None
    reason: str | None = None
    details: str | None = None
    fire_at: datetime | None = None
    status: OrchestrationStatus | None = None
    parent: Mapping[str, Any] | None = field(default=None, compare=False)
    """``ExecutionStarted.ParentInstance`` (``Name``, ``OrchestrationInstance``...)."""

    def to_json(self, *, played: bool = False) -> dict[str, Any]:
        """The DTFx JSON of this event (what ``JArray.FromObject(history)`` writes)."""
        data: dict[str, Any] = {"EventType": int(self.kind), "EventId": self.event_id,
                                "IsPlayed": played, "Timestamp": format_time(self.timestamp)}
        kind = self.kind
        if kind == EventType.EXECUTION_STARTED:
            data.update(OrchestrationInstance={"InstanceId": self.instance_id,
                                               "ExecutionId": self.execution_id},
                        ParentInstance=dict(self.parent) if self.parent else None,
                        Name=self.name, Version="", Input=self.input, Tags=None)
        elif kind in (EventType.TASK_SCHEDULED, EventType.SUB_ORCHESTRATION_INSTANCE_CREATED):
            data.update(Name=self.name, Version="", Input=self.input)
            if kind == EventType.SUB_ORCHESTRATION_INSTANCE_CREATED:
                data["InstanceId"] = self.instance_id
        elif kind in (EventType.TASK_COMPLETED, EventType.SUB_ORCHESTRATION_INSTANCE_COMPLETED):
            data.update(TaskScheduledId=self.task_id, Result=self.result)
        elif kind in (EventType.TASK_FAILED, EventType.SUB_ORCHESTRATION_INSTANCE_FAILED):
            data.update(TaskScheduledId=self.task_id, Reason=self.reason, Details=self.details)
        elif kind == EventType.TIMER_CREATED:
            data["FireAt"] = format_time(self.fire_at or self.timestamp)
        elif kind == EventType.TIMER_FIRED:
            data.update(TimerId=self.task_id, FireAt=format_time(self.fire_at or self.timestamp))
        elif kind == EventType.EVENT_SENT:
            data.update(InstanceId=self.instance_id, Name=self.name, Input=self.input)
        elif kind in (EventType.EVENT_RAISED, EventType.GENERIC_EVENT):
            data.update(Name=self.name, Input=self.input)
        elif kind in (EventType.EXECUTION_COMPLETED, EventType.CONTINUE_AS_NEW):
            status = self.status or OrchestrationStatus.COMPLETED
            data.update(OrchestrationStatus=int(status), Result=self.result, Details=self.details)
        elif kind in (EventType.EXECUTION_TERMINATED, EventType.EXECUTION_SUSPENDED,
                      EventType.EXECUTION_RESUMED):
            data["Input"] = self.input
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> HistoryEvent:
        """Read back what :meth:`to_json` wrote (ValueError/KeyError/TypeError when malformed)."""
        kind = EventType(int(data["EventType"]))
        instance = data.get("OrchestrationInstance") or {}
        fire_at = data.get("FireAt")
        status = data.get("OrchestrationStatus")
        task_id = data.get("TaskScheduledId", data.get("TimerId"))
        return cls(
            kind=kind, timestamp=parse_time(str(data["Timestamp"])),
            event_id=int(data.get("EventId", -1)), name=data.get("Name"),
            input=data.get("Input"), result=data.get("Result"),
            task_id=None if task_id is None else int(task_id),
            instance_id=instance.get("InstanceId") or data.get("InstanceId"),
            execution_id=instance.get("ExecutionId"), reason=data.get("Reason"),
            details=data.get("Details"),
            fire_at=parse_time(str(fire_at)) if fire_at else None,
            status=None if status is None else OrchestrationStatus(int(status)),
            parent=data.get("ParentInstance"))

    def encode(self) -> str:
        """The JSON text the store keeps."""
        return json.dumps(self.to_json(), separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def decode(cls, text: str) -> HistoryEvent:
        return cls.from_json(json.loads(text))

    def at(self, moment: datetime) -> HistoryEvent:
        """The same event stamped ``moment`` (messages are stamped when they are delivered)."""
        return replace(self, timestamp=moment)


def history_for_sdk(past: Sequence[HistoryEvent], new: Sequence[HistoryEvent]
                    ) -> list[dict[str, Any]]:
    """The ``history`` array of the orchestration context: past events are ``IsPlayed``."""
    return ([event.to_json(played=True) for event in past]
            + [event.to_json(played=False) for event in new])
