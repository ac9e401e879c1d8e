"""function_app.py as the worker indexes and calls it: HTTP functions, entity functions (with
the host's batch JSON), the declarations; the hub's functions are in tests/unit/chat/
test_app_handlers.py."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest

import function_app
from tests.unit.chat.function_app_fakes import ENTITIES

ROOT = Path(__file__).resolve().parents[2]
# get_functions() may run once per app object: the library remembers names it has seen.
FUNCTIONS = function_app.app.get_functions()


def request(method: str, url: str, *, headers: dict[str, str] | None = None,
            route_params: dict[str, str] | None = None, body: bytes = b"") -> func.HttpRequest:
    return func.HttpRequest(method, url, headers=headers or {}, route_params=route_params,
                            body=body)


# -- HTTP -----------------------------------------------------------------------------------------


def test_index_renders_the_page_with_its_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AzureSignalRConnectionString", "Endpoint=http://localhost;Port=8888;AccessKey=k"
    )
    response = function_app.index(request("GET", "http://localhost:7071/api/index"))
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_body().decode()
    assert 'data-max-length="2000"' in page and 'data-max-bytes="4000"' in page
    assert 'data-auth="off"' in page
    assert '<link rel="icon" href="data:,">' in page, "no favicon request, no console error"
    policy = response.headers["Content-Security-Policy"]
    assert "connect-src 'self' http://localhost:8888 ws://localhost:8888" in policy
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy
    assert "<script>" not in page, "no inline script"


def test_index_falls_back_to_the_cdn_when_the_library_is_not_bundled(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setattr(function_app, "LOCAL_CLIENT_LIBRARY", tmp_path / "missing.js")
    monkeypatch.setenv("SIGNALR_CLIENT_URL", "https://cdn.example/signalr.min.js")
    response = function_app.index(request("GET", "http://localhost:7071/api/index"))
    assert '<script src="https://cdn.example/signalr.min.js">' in response.get_body().decode()
    assert "script-src 'self' https://cdn.example;" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("name", "status"),
    [("app.js", 200), ("conversation.js", 200), ("people.js", 200), ("app.css", 200),
     ("secret", 404), ("../function_app.py", 404)],
)
def test_assets_serves_only_known_files(name: str, status: int) -> None:
    response = function_app.assets(
        request("GET", f"http://h/api/assets/{name}", route_params={"name": name})
    )
    assert response.status_code == status


def test_negotiate_returns_the_connection_info() -> None:
    info = json.dumps({"url": "http://localhost:8888/client/?hub=chat", "accessToken": "t"})
    response = function_app.negotiate(
        request("POST", "http://h/api/negotiate", headers={"x-ms-client-principal-name": "ada"}),
        info,
    )
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert json.loads(response.get_body()) == json.loads(info)


def test_index_passes_the_message_limits_and_the_sign_in_to_the_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHAT_MAX_MESSAGE_LENGTH", "280")
    monkeypatch.setenv("CHAT_MAX_MESSAGE_BYTES", "1000")
    monkeypatch.setenv("WEBSITE_AUTH_ENABLED", "True")
    page = function_app.index(request("GET", "http://h/api/index")).get_body().decode()
    assert 'data-max-length="280"' in page and 'data-max-bytes="1000"' in page
    assert 'data-auth="on"' in page


@pytest.mark.parametrize("name", ["x" * 65, "a\tb", "   ", "evil\u202egnp", " padded"])
def test_negotiate_refuses_unusable_names(name: str) -> None:
    response = function_app.negotiate(
        request("POST", "http://h/api/negotiate", headers={"x-ms-client-principal-name": name}),
        "{}",
    )
    assert response.status_code == 400


def test_negotiate_refuses_a_body_that_could_stand_in_for_the_headers() -> None:
    """On Azure {"headers": {...}} in the body becomes the user id's {headers.…} binding data."""
    body = json.dumps({"headers": {"x-ms-client-principal-name": "admin"}}).encode()
    response = function_app.negotiate(
        request("POST", "http://h/api/negotiate", headers={"x-ms-client-principal-name": "ada"},
                body=body),
        json.dumps({"url": "http://localhost:8888/client/?hub=chat", "accessToken": "admin's"}),
    )
    assert response.status_code == 400
    assert b"accessToken" not in response.get_body()


# -- entities -------------------------------------------------------------------------------------


def run_entity(name: str, state: Any, *operations: tuple[str, Any]) -> dict[str, Any]:
    batch = json.dumps({
        "self": {"name": name.lower(), "key": "k"}, "exists": state is not None,
        "state": None if state is None else json.dumps(state),
        "batch": [{"name": op, "input": json.dumps(json.dumps(data)), "isSignal": True}
                  for op, data in operations],
    })
    return json.loads(ENTITIES[name.lower()](batch))


def test_chat_room_appends_idempotently_and_honours_the_history_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHAT_HISTORY_SIZE", "2")
    message = {"id": "m1", "time": "2026-01-01T00:00:01.000Z", "text": "a"}
    result = run_entity("ChatRoom", None, ("append", message), ("append", message),
                        ("append", {"id": "m2", "time": "2026-01-01T00:00:02.000Z"}),
                        ("append", {"id": "m0", "time": "2026-01-01T00:00:00.000Z"}),
                        ("append", {"id": "m3", "time": "2026-01-01T00:00:03.000Z"}))
    assert [r["isError"] for r in result["results"]] == [False] * 5
    assert [m["id"] for m in json.loads(result["entityState"])["messages"]] == ["m2", "m3"]


def test_chat_room_reports_an_unknown_operation_as_an_error() -> None:
    result = run_entity("ChatRoom", {"messages": []}, ("explode", {"x": 1}))
    assert result["results"][0]["isError"] is True


def test_presence_entity_applies_operations_in_batch_order() -> None:
    result = run_entity("Presence", None, ("connect", {"connectionId": "c1", "user": "ada"}),
                        ("joinGroup", {"connectionId": "c1", "group": "g"}),
                        ("bogus", {"connectionId": "c1"}))
    assert [r["isError"] for r in result["results"]] == [False, False, True]
    state = json.loads(result["entityState"])
    assert state["user"] == "ada" and state["connections"] == {"c1": ["g"]}


def test_roster_and_group_entities_run_their_tables() -> None:
    roster = run_entity("Roster", None, ("update", {"entries": [
        {"key": "k", "user": "ada", "connections": 1, "version": 1}]}), ("update", {}))
    assert [r["isError"] for r in roster["results"]] == [False, True]
    assert json.loads(roster["entityState"])["online"]["k"]["user"] == "ada"
    group = run_entity("Group", None, ("add", {"connectionId": "c1"}),
                       ("remove", {"connectionId": "c2"}))
    assert json.loads(group["entityState"]) == {"connections": ["c1"]}


def test_app_indexes_with_portable_binding_names() -> None:
    """What the Azure host checks: camelCase binding names, one trigger per function."""
    names = re.compile(r"^[a-zA-Z][a-zA-Z0-9]{0,127}$")
    for function in FUNCTIONS:
        bindings = [json.loads(raw) for raw in function.get_raw_bindings()]
        assert sum(b["type"].lower().endswith("trigger") for b in bindings) == 1
        for binding in bindings:
            assert binding["name"] == "$return" or names.match(binding["name"]), binding
            if binding["type"] == "entityTrigger":
                assert binding["name"] == "context"


def test_app_declares_the_whole_original_hub_contract() -> None:
    """Same event names and argument order as the original sample. The four sends declare no
    parameterNames: their last argument, clientMessageId, is optional, and the binding would
    refuse a call whose argument count differs; the function checks the arguments itself."""
    triggers = {}
    for function in FUNCTIONS:
        for raw in function.get_raw_bindings():
            binding = json.loads(raw)
            if binding["type"] == "signalRTrigger":
                triggers[binding["event"]] = binding.get("parameterNames", [])
    assert triggers == {
        "connected": [], "disconnected": [],
        "broadcast": [], "sendToGroup": [], "sendToUser": [], "sendToConnection": [],
        "joinGroup": ["connectionId", "group"],
        "leaveGroup": ["connectionId", "group"], "joinUserToGroup": ["user", "group"],
        "leaveUserFromGroup": ["user", "group"],
    }


def test_reconcile_runs_on_the_schedule_setting_with_the_service_output() -> None:
    """A timer on ``%CHAT_RECONCILE_SCHEDULE%`` (Azure indexes it only when the setting exists,
    so the example settings and infra/ carry it) with the durable client and SignalR output."""
    (function,) = [f for f in FUNCTIONS if f.get_function_name() == "reconcile"]
    bindings = {b["type"]: b for b in map(json.loads, function.get_raw_bindings())}
    assert bindings["timerTrigger"]["schedule"] == "%CHAT_RECONCILE_SCHEDULE%"
    assert set(bindings) == {"timerTrigger", "signalR", "durableClient"}
    example = json.loads((ROOT / "local.settings.json.example").read_text(encoding="utf-8"))
    assert example["Values"]["CHAT_RECONCILE_SCHEDULE"] == "0 */1 * * * *"


def test_settings_warning_about_ignored_admins_is_logged_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("WEBSITE_SITE_NAME", "chat-test-once")
    monkeypatch.setenv("CHAT_ADMINS", "root")
    with caplog.at_level("WARNING", logger="chat"):
        for _ in range(3):
            function_app.index(request("GET", "http://h/api/index"))
    assert [r.getMessage() for r in caplog.records].count(
        "CHAT_ADMINS is ignored: App Service Authentication is off, so anyone can claim any "
        "name") == 1


@pytest.mark.parametrize("path", sorted((ROOT / "chat_io").glob("*.py")), ids=str)
def test_app_shell_never_imports_the_emulator(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
             for alias in node.names]
    names += [node.module for node in ast.walk(tree)
              if isinstance(node, ast.ImportFrom) and node.module and node.level == 0]
    assert not [name for name in names if name.split(".")[0] == "emulator"]


def test_repository_code_cites_no_private_notes_or_issue_numbers() -> None:
    """The app stands on its own: sources are docs/chat-app.md or public pages."""
    files = [ROOT / "function_app.py", *(ROOT / "chat").glob("*.py"),
             *(ROOT / "chat_io").glob("*.py"), *(ROOT / "content").glob("*.*")]
    pattern = re.compile(r"(durable-python|functions-python|signalr-service|signalr-protocol)"
                         r"\.md|issue \d|§")
    offenders = [str(p) for p in files if p.suffix in (".py", ".js", ".css", ".html")
                 and pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []
