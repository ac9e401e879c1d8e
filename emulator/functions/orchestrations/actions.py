"""What an out-of-process orchestrator returns: ``OrchestratorState`` and its actions, pure.

The SDK answers each episode with ``{"isDone", "schemaVersion"?, "actions", "output"?, "error"?,
"customStatus"?}`` (docs/durable.md "What the orchestrator returns"). ``actions`` is a list of
lists: with schema 0 (``Original``) one inner list per episode; with schemas 1 and 2 one inner list
holding one action per ``yield``, where ``task_all`` / ``task_any`` are compound actions. Action
types are numbered as the extension's ``AsyncActionType``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Any

from ...errors import DurableError
from .history import parse_time

__all__ = [
    "Action",
    "ActionType",
    "OrchestratorResult",
    "RetryPolicy",
    "parse_orchestrator_result",
]


class ActionType(IntEnum):
    """The extension's ``AsyncActionType`` (Listener/OutOfProcOrchestrationShim.cs)."""

    CALL_ACTIVITY = 0
    CALL_ACTIVITY_WITH_RETRY = 1
    CALL_SUB_ORCHESTRATOR = 2
    CALL_SUB_ORCHESTRATOR_WITH_RETRY = 3
    CONTINUE_AS_NEW = 4
    CREATE_TIMER = 5
    WAIT_FOR_EXTERNAL_EVENT = 6
    CALL_ENTITY = 7
    CALL_HTTP = 8
    SIGNAL_ENTITY = 9
    SCHEDULED_SIGNAL_ENTITY = 10
    WHEN_ANY = 11
    WHEN_ALL = 12


@dataclass(frozen=True)
class RetryPolicy:
    """``retryOptions`` (milliseconds); DTFx RetryOptions defaults for what the SDK leaves out."""

    first_interval_ms: float
    max_attempts: int
    backoff: float = 1.0
    max_interval_ms: float | None = None
    timeout_ms: float | None = None

    def delay_ms(self, attempt: int) -> float:
        """The wait before attempt ``attempt + 2`` (DTFx RetryInterceptor.ComputeNextDelay)."""
        delay = self.first_interval_ms * self.backoff ** attempt
        return delay if self.max_interval_ms is None else min(delay, self.max_interval_ms)


@dataclass(frozen=True, kw_only=True)
class Action:
    """One action; ``children`` for WhenAll / WhenAny (and an ``Original``-schema episode)."""

    type: ActionType
    name: str | None = None
    """Activity or orchestrator name, event name, or entity operation."""
    input: str | None = None
    """The JSON text the SDK produced with ``df_dumps`` (or None)."""
    instance_id: str | None = None
    """Sub-orchestration instance id, or the entity's scheduler id ``@name@key``."""
    fire_at: datetime | None = None
    canceled: bool = False
    retry: RetryPolicy | None = None
    children: tuple[Action, ...] = ()


@dataclass(frozen=True)
class OrchestratorResult:
    is_done: bool
    actions: tuple[Action, ...]
    """In order; an ``Original``-schema episode is one WHEN_ANY-like group (see replay)."""
    output: Any
    error: str | None
    custom_status: Any
    schema: int
    episodes: tuple[tuple[Action, ...], ...] = ()
    """``Original`` schema only: the actions of each episode."""


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _retry(data: Any) -> RetryPolicy:
    if not isinstance(data, Mapping):
        raise DurableError("an action with retry has no retryOptions")
    try:
        first = float(data["firstRetryIntervalInMilliseconds"])
        attempts = int(data["maxNumberOfAttempts"])
        backoff = float(data.get("backoffCoefficient") or 1.0)
        max_interval = data.get("maxRetryIntervalInMilliseconds")
        timeout = data.get("retryTimeoutInMilliseconds")
    except (KeyError, TypeError, ValueError):
        raise DurableError(f"retryOptions {data!r} are malformed") from None
    if first <= 0:
        raise DurableError("retryOptions.firstRetryIntervalInMilliseconds must be positive")
    return RetryPolicy(first, attempts, backoff,
                       None if max_interval is None else float(max_interval),
                       None if timeout is None else float(timeout))


def _action(data: Any) -> Action:
    if not isinstance(data, Mapping):
        raise DurableError("an action is not a JSON object")
    try:
        kind = ActionType(int(data["actionType"]))
    except (KeyError, TypeError, ValueError):
        raise DurableError(f"unknown actionType {data.get('actionType')!r}") from None
    if kind in (ActionType.WHEN_ALL, ActionType.WHEN_ANY):
        children = data.get("compoundActions")
        if not isinstance(children, list):
            raise DurableError("a compound action has no compoundActions list")
        return Action(type=kind, children=tuple(_action(c) for c in children))
    name = {ActionType.WAIT_FOR_EXTERNAL_EVENT: "externalEventName",
            ActionType.CALL_ENTITY: "operation", ActionType.SIGNAL_ENTITY: "operation",
            ActionType.SCHEDULED_SIGNAL_ENTITY: "operation"}.get(kind, "functionName")
    fire_at = data.get("fireAt")
    try:
        when = parse_time(str(fire_at)) if fire_at else None
    except ValueError:
        raise DurableError(f"fireAt {fire_at!r} is not a time") from None
    if kind == ActionType.CREATE_TIMER and when is None:
        raise DurableError("a timer action has no fireAt")
    retried = kind in (ActionType.CALL_ACTIVITY_WITH_RETRY,
                       ActionType.CALL_SUB_ORCHESTRATOR_WITH_RETRY)
    return Action(type=kind, name=data.get(name), input=_text(data.get("input")),
                  instance_id=data.get("instanceId"), fire_at=when,
                  canceled=bool(data.get("isCanceled")),
                  retry=_retry(data.get("retryOptions")) if retried else None)


def parse_orchestrator_result(value: Any) -> OrchestratorResult:
    """Parse the SDK's answer (a JSON text or dict); DurableError when it is not one."""
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("utf-8", "replace")
    try:
        data = json.loads(value) if isinstance(value, str) else value
    except (ValueError, RecursionError):
        raise DurableError("the orchestrator function returned text that is not JSON") from None
    if not isinstance(data, Mapping) or "isDone" not in data:
        raise DurableError("the orchestrator function did not return an orchestration state "
                           "(is it decorated with orchestration_trigger?)")
    raw = data.get("actions")
    raw = [] if raw is None else raw
    if not isinstance(raw, list) or not all(isinstance(a, list) for a in raw):
        raise DurableError("the orchestration state's actions are not a list of lists")
    schema = data.get("schemaVersion", 0)
    if not isinstance(schema, int) or schema not in (0, 1, 2):
        raise DurableError(f"unsupported orchestration schemaVersion {schema!r}")
    episodes: tuple[tuple[Action, ...], ...] = tuple(tuple(_action(a) for a in group)
                                                     for group in raw)
    if schema == 0:
        actions: tuple[Action, ...] = ()
    elif len(episodes) > 1:
        raise DurableError(f"with schemaVersion {schema} the actions must be one list, got "
                           f"{len(episodes)}")
    else:
        actions = episodes[0] if episodes else ()
    error = data.get("error")
    return OrchestratorResult(is_done=bool(data.get("isDone")), actions=actions,
                              output=data.get("output"),
                              error=None if error is None else str(error),
                              custom_status=data.get("customStatus"), schema=schema,
                              episodes=episodes if schema == 0 else ())
