"""The management API's JSON and routes, pure: what the extension answers, byte for byte."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import azure.durable_functions as df
import pytest
from azure.durable_functions.models.DurableOrchestrationStatus import DurableOrchestrationStatus

from emulator.functions.orchestrations import (
    ApiOperation,
    ApiRoute,
    EventType,
    HistoryEvent,
    InstanceRecord,
    OrchestrationStatus,
    check_status_body,
    client_payload,
    history_json,
    management_urls,
    match_api_route,
    parse_token,
    query_bool,
    query_int,
    query_time,
    status_code_for,
    status_json,
)

T0 = datetime(2026, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)


@pytest.mark.parametrize(("method", "path", "route"), [
    ("POST", "orchestrators/hello", ApiRoute(ApiOperation.START, "hello")),
    ("POST", "/orchestrators/hello/id-1/", ApiRoute(ApiOperation.START, "hello", "id-1")),
    ("GET", "orchestrators/hello", ApiRoute(ApiOperation.NOT_FOUND)),
    ("GET", "entities/Counter/k", ApiRoute(ApiOperation.ENTITY_READ, "Counter", "k")),
    ("GET", "entities/Counter", ApiRoute(ApiOperation.ENTITY_LIST, "Counter")),
    ("GET", "entities", ApiRoute(ApiOperation.ENTITY_LIST)),
    ("POST", "entities/Counter/a%20b", ApiRoute(ApiOperation.ENTITY_SIGNAL, "Counter", "a b")),
    ("DELETE", "entities/Counter/k", ApiRoute(ApiOperation.ENTITY_SIGNAL, "Counter", "k")),
    ("PUT", "entities/Counter/k", ApiRoute(ApiOperation.NOT_FOUND)),
    ("GET", "instances/", ApiRoute(ApiOperation.INSTANCE_LIST)),
    ("DELETE", "instances", ApiRoute(ApiOperation.INSTANCE_PURGE_MANY)),
    ("GET", "instances/abc", ApiRoute(ApiOperation.STATUS, key="abc")),
    ("DELETE", "instances/abc", ApiRoute(ApiOperation.PURGE, key="abc")),
    ("POST", "instances/abc/Terminate", ApiRoute(ApiOperation.TERMINATE, key="abc")),
    ("POST", "instances/abc/suspend", ApiRoute(ApiOperation.SUSPEND, key="abc")),
    ("POST", "instances/abc/resume", ApiRoute(ApiOperation.RESUME, key="abc")),
    ("POST", "instances/abc/restart", ApiRoute(ApiOperation.RESTART, key="abc")),
    ("POST", "instances/abc/rewind", ApiRoute(ApiOperation.REWIND, key="abc")),
    ("POST", "instances/abc/dance", ApiRoute(ApiOperation.NOT_FOUND)),
    ("POST", "instances/abc/raiseEvent/Go", ApiRoute(ApiOperation.RAISE_EVENT, "Go", "abc")),
    ("GET", "instances/abc/raiseEvent/Go", ApiRoute(ApiOperation.NOT_FOUND)),
    ("GET", "makeprimary", ApiRoute(ApiOperation.NOT_FOUND)),
    ("GET", "", ApiRoute(ApiOperation.NOT_FOUND)),
])
def test_api_routes_match_the_extensions_templates(method, path, route) -> None:
    assert match_api_route(method, path) == route


def test_api_query_values_parse_like_dotnet() -> None:
    query = {"a": "TRUE", "b": "no", "n": "12", "m": "x", "t": "2026-01-01T00:00:00",
             "z": "2026-01-01T01:00:00+01:00"}
    assert (query_bool(query, "a", False), query_bool(query, "b", True)) == (True, True)
    assert (query_int(query, "n"), query_int(query, "m")) == (12, None)
    assert query_time(query, "t") == query_time(query, "z") == datetime(2026, 1, 1, tzinfo=UTC)
    assert query_time(query, "missing") is None and query_time({"t": "soon"}, "t") is None


def record(status: OrchestrationStatus, **fields) -> InstanceRecord:
    base = {"hub": "h", "instance_id": "i", "name": "orch", "status": status,
            "input": '"{\\"a\\": 1}"', "output": None, "custom_status": None, "created": T0,
            "updated": T0 + timedelta(seconds=3), "execution_id": "e"}
    return InstanceRecord(**{**base, **fields})


def test_status_json_has_the_extensions_shape() -> None:
    body = status_json(record(OrchestrationStatus.FAILED, output="it broke",
                              custom_status='{"step": 2}'))
    assert body == {"name": "orch", "instanceId": "i", "runtimeStatus": "Failed",
                    "input": '{"a": 1}', "customStatus": {"step": 2}, "output": "it broke",
                    "createdTime": "2026-05-06T07:08:09Z",
                    "lastUpdatedTime": "2026-05-06T07:08:12Z"}
    assert status_json(record(OrchestrationStatus.RUNNING), show_input=False)["input"] is None
    status = DurableOrchestrationStatus.from_json(body)
    assert status.runtime_status == df.OrchestrationRuntimeStatus.Failed


@pytest.mark.parametrize(("status", "code"), [
    (OrchestrationStatus.PENDING, 202), (OrchestrationStatus.RUNNING, 202),
    (OrchestrationStatus.CONTINUED_AS_NEW, 202), (OrchestrationStatus.SUSPENDED, 202),
    (OrchestrationStatus.COMPLETED, 200), (OrchestrationStatus.TERMINATED, 200),
    (OrchestrationStatus.FAILED, 200)])
def test_status_codes(status, code) -> None:
    assert status_code_for(status) == code
    assert status_code_for(OrchestrationStatus.FAILED, fail_with_500=True) == 500


@pytest.mark.parametrize(("text", "value"), [(None, None), ("  ", ""), ("[1]", [1]),
                                             ("not json", "not json"), ('"s"', "s")])
def test_parse_token_is_json_or_the_raw_text(text, value) -> None:
    assert parse_token(text) == value


def test_history_json_folds_scheduling_into_outcomes() -> None:
    events = [
        HistoryEvent(kind=EventType.ORCHESTRATOR_STARTED, timestamp=T0),
        HistoryEvent(kind=EventType.EXECUTION_STARTED, timestamp=T0, name="orch", input="1",
                     instance_id="i", execution_id="e"),
        HistoryEvent(kind=EventType.TASK_SCHEDULED, timestamp=T0, event_id=0, name="hello",
                     input='"a"'),
        HistoryEvent(kind=EventType.ORCHESTRATOR_COMPLETED, timestamp=T0),
        HistoryEvent(kind=EventType.TASK_COMPLETED, timestamp=T0, task_id=0, result='"hi"'),
        HistoryEvent(kind=EventType.TIMER_FIRED, timestamp=T0, task_id=1, fire_at=T0),
        HistoryEvent(kind=EventType.EXECUTION_COMPLETED, timestamp=T0, result='"hi"',
                     status=OrchestrationStatus.COMPLETED),
    ]
    shown = history_json(events, show_output=True, show_input=True)
    assert [e["EventType"] for e in shown] == ["ExecutionStarted", "TaskCompleted",
                                               "TimerFired", "ExecutionCompleted"]
    assert shown[0]["FunctionName"] == "orch" and "OrchestrationInstance" not in shown[0]
    assert shown[1] == {"EventType": "TaskCompleted", "Timestamp": "2026-05-06T07:08:09.123456Z",
                        "Result": "hi", "ScheduledTime": "2026-05-06T07:08:09.123456Z",
                        "FunctionName": "hello", "Input": '"a"'}
    assert "TimerId" not in shown[2] and shown[3]["OrchestrationStatus"] == "Completed"
    hidden = history_json(events, show_output=False, show_input=False)
    assert "Result" not in hidden[1] and "Input" not in hidden[1]


def test_management_urls_and_client_payload_work_with_the_sdk() -> None:
    urls = management_urls("http://h:1/runtime/webhooks/durabletask", "a b", "Hub")
    assert urls["statusQueryGetUri"] == ("http://h:1/runtime/webhooks/durabletask/instances/a+b"
                                         "?taskHub=Hub&connection=Storage")
    assert set(check_status_body(urls)) == {
        "id", "statusQueryGetUri", "sendEventPostUri", "terminatePostUri",
        "purgeHistoryDeleteUri", "restartPostUri", "suspendPostUri", "resumePostUri"}
    client = df.DurableOrchestrationClient(client_payload("http://127.0.0.1:9", "Hub", "Other"))
    links = client.create_http_management_payload("abc")
    assert links["statusQueryGetUri"] == ("http://127.0.0.1:9/runtime/webhooks/durabletask/"
                                          "instances/abc?taskHub=Hub&connection=Other")
    payload = json.loads(client_payload("http://x", "Hub"))
    assert payload["rpcBaseUrl"] == "http://x/runtime/webhooks/durabletask/"
    assert payload["connectionName"] is None
