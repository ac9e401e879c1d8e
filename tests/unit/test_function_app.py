"""Every function of function_app.py called directly, the way the Python worker calls it."""

from __future__ import annotations

import json
from typing import Any

import azure.functions as func
import pytest

import function_app
from chat import InvalidMessage


class Out(func.Out[str]):
    """A concrete output holder, like the worker's."""

    def __init__(self) -> None:
        self.value: str | None = None

    def set(self, val: str) -> None:
        self.value = val

    def get(self) -> str:
        assert self.value is not None
        return self.value


def invocation(
    event: str,
    *arguments: Any,
    user: str | None = "ada",
    headers: dict[str, str] | None = None,
    category: str = "messages",
) -> str:
    """InvocationContext JSON as the host hands it over (functions-python.md §4.2)."""
    return json.dumps(
        {
            "Arguments": list(arguments) if category == "messages" else None,
            "Error": None,
            "Category": category,
            "Event": event,
            "Hub": "chat",
            "ConnectionId": "conn-1",
            "UserId": user,
            "Headers": headers or {},
            "Query": {},
            "Claims": {},
        }
    )


def request(
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    route_params: dict[str, str] | None = None,
) -> func.HttpRequest:
    return func.HttpRequest(method, url, headers=headers or {}, route_params=route_params, body=b"")


def test_index_renders_the_page_with_its_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AzureSignalRConnectionString", "Endpoint=http://localhost;Port=8888;AccessKey=k"
    )
    response = function_app.index(request("GET", "http://localhost:7071/api/index"))
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_body().decode()
    assert 'data-hub="chat"' in page
    policy = response.headers["Content-Security-Policy"]
    assert "connect-src 'self' http://localhost:8888 ws://localhost:8888" in policy


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
    [("app.js", 200), ("app.css", 200), ("secret", 404), ("../function_app.py", 404)],
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


@pytest.mark.parametrize("name", ["x" * 65, "a\tb"])
def test_negotiate_refuses_unusable_names(name: str) -> None:
    response = function_app.negotiate(
        request("POST", "http://h/api/negotiate", headers={"x-ms-client-principal-name": name}),
        "{}",
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("headers", "authenticated"), [({}, False), ({"Authorization": "Bearer x"}, True)]
)
def test_on_connected_announces_the_connection(
    headers: dict[str, str], authenticated: bool
) -> None:
    out = Out()
    function_app.on_connected(invocation("connected", headers=headers, category="connections"), out)
    assert json.loads(out.get()) == {
        "target": "newConnection",
        "arguments": [{"connectionId": "conn-1", "authentication": authenticated}],
    }


def test_on_disconnected_sends_nothing() -> None:
    assert function_app.on_disconnected(invocation("disconnected", category="connections")) is None


def test_broadcast_sends_new_message_from_the_token_user() -> None:
    out = Out()
    message_id = function_app.broadcast(invocation("broadcast", "  hello  "), out)
    sent = json.loads(out.get())
    assert sent["target"] == "newMessage"
    [message] = sent["arguments"]
    assert message["id"] == message_id
    assert (message["sender"], message["connectionId"], message["text"]) == (
        "ada",
        "conn-1",
        "hello",
    )


@pytest.mark.parametrize("text", ["", "   ", "x" * 2001, 5])
def test_broadcast_refuses_invalid_text_and_sends_nothing(text: object) -> None:
    out = Out()
    with pytest.raises(InvalidMessage):
        function_app.broadcast(invocation("broadcast", text), out)
    assert out.value is None


def test_broadcast_honours_the_configured_length(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAT_MAX_MESSAGE_LENGTH", "3")
    with pytest.raises(InvalidMessage, match="at most 3"):
        function_app.broadcast(invocation("broadcast", "abcd"), Out())


def test_app_indexes_with_portable_binding_names() -> None:
    """What the Azure host checks: camelCase binding names, one trigger per function."""
    import re

    names = re.compile(r"^[a-zA-Z][a-zA-Z0-9]{0,127}$")
    for function in function_app.app.get_functions():
        bindings = [json.loads(raw) for raw in function.get_raw_bindings()]
        assert sum(b["type"].lower().endswith("trigger") for b in bindings) == 1
        for binding in bindings:
            assert binding["name"] == "$return" or names.match(binding["name"]), binding
