"""The management API's JSON, pure: instance status, ``showHistory`` events, management URLs.

Shapes and status codes are the extension's (``HttpApiHandler`` and ``DurableClient``,
docs/durable.md "Management API"). Stored values are JSON texts; the API parses them the way the
extension's ``ParseToJToken`` does: JSON when they are JSON, the raw text otherwise (a termination
or failure reason), null for nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote_plus

from .history import EventType, HistoryEvent, OrchestrationStatus, format_status_time

__all__ = [
    "BASE_PATH",
    "InstanceRecord",
    "check_status_body",
    "client_payload",
    "entity_status_json",
    "history_json",
    "management_urls",
    "parse_token",
    "status_code_for",
    "status_json",
]

BASE_PATH = "/runtime/webhooks/durabletask"
DEFAULT_CONNECTION = "Storage"
"""The connection the management URLs name when the binding names none (AzureWebJobsStorage)."""


@dataclass(frozen=True)
class InstanceRecord:
    """One orchestration instance as the store keeps it."""

    hub: str
    instance_id: str
    name: str
    status: OrchestrationStatus
    input: str | None
    output: str | None
    custom_status: str | None
    created: datetime
    updated: datetime
    execution_id: str
    parent: Mapping[str, Any] | None = None


def parse_token(text: str | None) -> Any:
    """The extension's ``ParseToJToken``: JSON when it parses, else the trimmed raw text."""
    if text is None:
        return None
    text = text.strip()
    if not text:
        return ""
    try:
        return json.loads(text)
    except ValueError:
        return text


def status_json(record: InstanceRecord, *, show_input: bool = True,
                history: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """``StatusResponsePayload`` (HttpApiHandler.ConvertFrom)."""
    data: dict[str, Any] = {
        "name": record.name,
        "instanceId": record.instance_id,
        "runtimeStatus": record.status.title,
        "input": parse_token(record.input) if show_input else None,
        "customStatus": parse_token(record.custom_status),
        "output": parse_token(record.output),
        "createdTime": format_status_time(record.created),
        "lastUpdatedTime": format_status_time(record.updated),
    }
    if history is not None:
        data["historyEvents"] = history
    return data


def status_code_for(status: OrchestrationStatus, *, fail_with_500: bool = False) -> int:
    """202 while it runs, 200 once it ended (500 for Failed when asked)."""
    if status == OrchestrationStatus.FAILED:
        return 500 if fail_with_500 else 200
    return 200 if status.is_terminal else 202


def history_json(events: Sequence[HistoryEvent], *, show_output: bool,
                 show_input: bool) -> list[dict[str, Any]]:
    """``historyEvents`` as ``GetDurableOrchestrationStatusAsync`` reshapes the raw history.

    Event types become names; scheduling events are folded into their outcome
    (``FunctionName``, ``ScheduledTime``, ``Input``); OrchestratorStarted/Completed go; outputs
    (``Result``) appear only with ``showHistoryOutput``.
    """
    items: list[dict[str, Any] | None] = []
    scheduled: dict[tuple[EventType, int], int] = {}
    for event in events:
        raw = event.to_json()
        raw["EventType"] = event.kind.title
        kind = event.kind
        if kind in (EventType.TASK_SCHEDULED, EventType.SUB_ORCHESTRATION_INSTANCE_CREATED):
            scheduled[(kind, event.event_id)] = len(items)
            raw.pop("Version", None)
        elif kind in (EventType.TASK_COMPLETED, EventType.TASK_FAILED,
                      EventType.SUB_ORCHESTRATION_INSTANCE_COMPLETED,
                      EventType.SUB_ORCHESTRATION_INSTANCE_FAILED):
            source = (EventType.TASK_SCHEDULED
                      if kind in (EventType.TASK_COMPLETED, EventType.TASK_FAILED)
                      else EventType.SUB_ORCHESTRATION_INSTANCE_CREATED)
            index = scheduled.get((source, event.task_id if event.task_id is not None else -1))
            if index is not None and items[index] is not None:
                origin = items[index] or {}
                raw["ScheduledTime"] = origin.get("Timestamp")
                raw["FunctionName"] = origin.get("Name")
                if show_input:
                    raw["Input"] = origin.get("Input")
                items[index] = None
            raw.pop("TaskScheduledId", None)
            _output(raw, show_output and kind in (EventType.TASK_COMPLETED,
                                                  EventType.SUB_ORCHESTRATION_INSTANCE_COMPLETED))
        elif kind == EventType.EXECUTION_STARTED:
            raw["FunctionName"] = raw.pop("Name", None)
            for key in ("OrchestrationInstance", "ParentInstance", "Version", "Tags"):
                raw.pop(key, None)
        elif kind == EventType.EXECUTION_COMPLETED:
            raw["OrchestrationStatus"] = (event.status or OrchestrationStatus.COMPLETED).title
            _output(raw, show_output)
        elif kind == EventType.TIMER_FIRED:
            raw.pop("TimerId", None)
        elif kind in (EventType.ORCHESTRATOR_STARTED, EventType.ORCHESTRATOR_COMPLETED):
            items.append(None)
            continue
        if not show_input:
            raw.pop("Input", None)
        raw.pop("EventId", None)
        raw.pop("IsPlayed", None)
        items.append(raw)
    return [item for item in items if item is not None]


def _output(item: dict[str, Any], show: bool) -> None:
    if show:
        item["Result"] = parse_token(item.get("Result"))
    else:
        item.pop("Result", None)


def _query(task_hub: str, connection: str, extra: str) -> str:
    text = f"taskHub={quote_plus(task_hub)}&connection={quote_plus(connection)}"
    return f"{text}&{extra}" if extra else text


def management_urls(base: str, instance_id: str, task_hub: str, connection: str | None = None,
                    extra_query: str = "") -> dict[str, str]:
    """``HttpManagementPayload`` for one instance (HttpApiHandler.GetClientResponseLinks).

    ``base`` is ``<origin>/runtime/webhooks/durabletask``; ``extra_query`` is the webhook's own
    query (``code=<system key>`` when keys are checked).
    """
    query = _query(task_hub, connection or DEFAULT_CONNECTION, extra_query)
    instance = f"{base}/instances/{quote_plus(instance_id)}"
    return {
        "id": instance_id,
        "purgeHistoryDeleteUri": f"{instance}?{query}",
        "sendEventPostUri": f"{instance}/raiseEvent/{{eventName}}?{query}",
        "statusQueryGetUri": f"{instance}?{query}",
        "terminatePostUri": f"{instance}/terminate?reason={{text}}&{query}",
        "resumePostUri": f"{instance}/resume?reason={{text}}&{query}",
        "suspendPostUri": f"{instance}/suspend?reason={{text}}&{query}",
        "rewindPostUri": f"{instance}/rewind?reason={{text}}&{query}",
        "restartPostUri": f"{instance}/restart?{query}",
    }


def check_status_body(urls: dict[str, str]) -> dict[str, str]:
    """The 202 body of a start (HttpApiHandler.CreateCheckStatusResponseMessage)."""
    keys = ("id", "statusQueryGetUri", "sendEventPostUri", "terminatePostUri",
            "purgeHistoryDeleteUri", "restartPostUri", "suspendPostUri", "resumePostUri")
    return {k: urls[k] for k in keys}


def client_payload(origin: str, task_hub: str, connection: str | None = None,
                   extra_query: str = "", rpc_base: str | None = None) -> str:
    """The ``durableClient`` binding value, a JSON text (BindingHelper's legacy payload).

    ``rpcBaseUrl`` is this host's own durable API (``rpc_base``, default the API's base): the
    SDK's calls come back here. Every creation and management URL carries ``extra_query``
    (the webhook's ``code=``), which is also ``requiredQueryStringParameters``.
    """
    base = f"{origin}{BASE_PATH}"
    query = _query(task_hub, connection or DEFAULT_CONNECTION, extra_query)
    links = management_urls(base, "INSTANCEID", task_hub, connection, extra_query)
    creation = f"{base}/orchestrators/{{functionName}}[/{{instanceId}}]"
    return json.dumps({
        "taskHubName": task_hub,
        "creationUrls": {
            "createNewInstancePostUri": f"{creation}?{query}",
            "createAndWaitOnNewInstancePostUri":
                f"{creation}?timeout={{timeoutInSeconds}}&pollingInterval={{intervalInSeconds}}"
                f"&{query}",
        },
        "managementUrls": {"id": "INSTANCEID", **{k: v for k, v in links.items() if k != "id"}},
        "baseUrl": base,
        "requiredQueryStringParameters": extra_query,
        "rpcBaseUrl": rpc_base or f"{base}/",
        "connectionName": connection,
    })


def entity_status_json(name: str, key: str, updated: datetime, state: str | None,
                       fetch_state: bool) -> dict[str, Any]:
    """One ``DurableEntityStatus`` of the entity listing."""
    return {"entityId": {"name": name, "key": key},
            "lastOperationTime": format_status_time(updated),
            "state": parse_token(state) if fetch_state and state is not None else None}
