"""Every function of function_app.py called directly, the way the Python worker calls it.

HTTP functions and entity functions are called through their decorated builders (entity
functions with the host's batch JSON, durable-python.md §2.2). Durable-client functions are
called through ``build().get_user_function().client_function`` (durable-python.md §6) with a
fake client that queues signals and runs them through the real entity functions, so reads only
see committed state — as on Azure.
"""

from __future__ import annotations

import json
from typing import Any

import azure.functions as func
import pytest

import function_app
from chat import InvalidGroupName, InvalidMessage, NotAllowed, NotOnline
from tests.unit.chat.function_app_fakes import ENTITIES, FakeDurableClient, Out, invocation

# get_functions() may run once per app object: the library remembers names it has seen.
FUNCTIONS = function_app.app.get_functions()


async def call(name: str, client: FakeDurableClient, context: str) -> tuple[Any, Out]:
    """A durable-client function's own code, with keyword arguments as the middleware passes."""
    function = getattr(function_app, name).build().get_user_function().client_function
    out = Out()
    result = await function(invocation=context, signalRMessages=out, client=client)
    return result, out


async def connect(client: FakeDurableClient, user: str | None, cid: str) -> Out:
    _, out = await call("on_connected", client,
                        invocation("connected", user=user, cid=cid, category="connections"))
    return out


def request(method: str, url: str, *, headers: dict[str, str] | None = None,
            route_params: dict[str, str] | None = None) -> func.HttpRequest:
    return func.HttpRequest(method, url, headers=headers or {}, route_params=route_params, body=b"")


@pytest.fixture
def client() -> FakeDurableClient:
    return FakeDurableClient()


# -- HTTP -----------------------------------------------------------------------------------------


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
    assert state["users"]["ada"]["connections"] == ["c1"]
    assert state["groups"]["g"]["connections"] == ["c1"]


# -- connection events ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "authenticated"), [({}, False), ({"Authorization": "Bearer x"}, True)]
)
async def test_on_connected_announces_the_connection(
    client: FakeDurableClient, headers: dict[str, str], authenticated: bool
) -> None:
    _, out = await call("on_connected", client,
                        invocation("connected", headers=headers, category="connections"))
    items = out.items()
    assert items[-1] == {"target": "newConnection",
                         "arguments": [{"connectionId": "c-ada", "authentication": authenticated}]}
    assert items[0] == {"target": "history", "arguments": [[]], "connectionId": "c-ada"}
    assert items[1]["target"] == "onlineUsers"
    assert items[1]["arguments"][0]["users"] == [{"user": "ada", "connections": 1}]
    assert items[2] == {"target": "userJoined", "arguments": [{"user": "ada", "version": 1}]}


async def test_on_connected_waits_until_presence_shows_the_connection() -> None:
    """Signals run late (after two reads): the function reads back until its change shows."""
    client = FakeDurableClient(lag=2)
    out = await connect(client, "ada", "c-ada")
    assert out.items()[1]["arguments"][0]["users"] == [{"user": "ada", "connections": 1}]


async def test_on_connected_sends_the_history_oldest_first(client: FakeDurableClient) -> None:
    await connect(client, "ada", "c-ada")
    ids = [await call("broadcast", client, invocation("broadcast", f"m{n}")) for n in range(3)]
    out = await connect(client, "bob", "c-bob")
    history = out.items()[0]
    assert history["connectionId"] == "c-bob"
    assert [m["id"] for m in history["arguments"][0]] == [result for result, _ in ids]
    assert [m["text"] for m in history["arguments"][0]] == ["m0", "m1", "m2"]


async def test_on_connected_second_connection_of_a_user_is_not_a_join(
    client: FakeDurableClient,
) -> None:
    await connect(client, "ada", "c-1")
    out = await connect(client, "ada", "c-2")
    assert "userJoined" not in [item["target"] for item in out.items()]
    assert out.items()[1]["arguments"][0]["users"] == [{"user": "ada", "connections": 2}]


async def test_on_disconnected_user_left_after_the_last_connection(
    client: FakeDurableClient,
) -> None:
    await connect(client, "ada", "c-1")
    await connect(client, "ada", "c-2")
    context = invocation("disconnected", cid="c-1", category="connections")
    _, out = await call("on_disconnected", client, context)
    assert out.value is None
    _, out = await call("on_disconnected", client,
                        invocation("disconnected", cid="c-2", category="connections"))
    assert out.items() == [{"target": "userLeft", "arguments": [{"user": "ada", "version": 2}]}]
    assert client.state("Presence", "chat")["users"] == {}


# -- messages -------------------------------------------------------------------------------------


async def test_broadcast_sends_new_message_from_the_token_user(client: FakeDurableClient) -> None:
    message_id, out = await call("broadcast", client, invocation("broadcast", "  hello  "))
    [sent] = out.items()
    assert sent["target"] == "newMessage" and "connectionId" not in sent
    [message] = sent["arguments"]
    assert message["id"] == message_id
    assert (message["sender"], message["connectionId"], message["text"]) == ("ada", "c-ada",
                                                                             "hello")
    assert client.state("ChatRoom", "lobby")["messages"] == [message]


@pytest.mark.parametrize("arguments", [("",), ("   ",), ("x" * 2001,), (5,), (), ("a", "b")])
async def test_broadcast_refuses_invalid_text_and_sends_nothing(
    client: FakeDurableClient, arguments: tuple[Any, ...]
) -> None:
    out = Out()
    function = function_app.broadcast.build().get_user_function().client_function
    with pytest.raises(InvalidMessage):
        await function(invocation=invocation("broadcast", *arguments), signalRMessages=out,
                       client=client)
    assert out.value is None
    assert client.signals == []


async def test_broadcast_honours_the_configured_length(
    client: FakeDurableClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHAT_MAX_MESSAGE_LENGTH", "3")
    with pytest.raises(InvalidMessage, match="at most 3"):
        await call("broadcast", client, invocation("broadcast", "abcd"))


async def test_send_to_user_private_to_recipient_and_echo(client: FakeDurableClient) -> None:
    await connect(client, "bob", "c-bob")
    message_id, out = await call("send_to_user", client, invocation("sendToUser", "bob", "psst"))
    items = out.items()
    assert [(i["target"], i.get("userId")) for i in items] == [("newMessage", "bob"),
                                                              ("newMessage", "ada")]
    message = items[0]["arguments"][0]
    assert message["id"] == message_id and message["isPrivate"] is True
    assert message["sender"] == "ada" and message["recipient"] == "bob"
    assert "lobby" not in {key for _, key in client.records}, "private messages are not history"


async def test_send_to_user_offline_recipient_is_refused(client: FakeDurableClient) -> None:
    with pytest.raises(NotOnline, match="bob is not online"):
        await call("send_to_user", client, invocation("sendToUser", "bob", "psst"))


async def test_send_to_connection_private_to_it_and_echo(client: FakeDurableClient) -> None:
    await connect(client, "bob", "c-bob")
    _, out = await call("send_to_connection", client,
                        invocation("sendToConnection", "c-bob", "hey"))
    assert [(i.get("connectionId"), i.get("userId")) for i in out.items()] == [
        ("c-bob", None), (None, "ada")]
    with pytest.raises(NotOnline):
        await call("send_to_connection", client, invocation("sendToConnection", "c-nope", "x"))


async def test_join_group_then_send_to_group(client: FakeDurableClient) -> None:
    await connect(client, "ada", "c-ada")
    with pytest.raises(NotAllowed, match="Only members"):
        await call("send_to_group", client, invocation("sendToGroup", "team", "early"))
    group, out = await call("join_group", client, invocation("joinGroup", "c-ada", " team "))
    assert group == "team"
    assert out.items() == [{"action": "add", "groupName": "team", "connectionId": "c-ada"}]
    message_id, out = await call("send_to_group", client,
                                 invocation("sendToGroup", "team", "hi team"))
    [sent] = out.items()
    assert sent["groupName"] == "team"
    assert sent["arguments"][0]["group"] == "team" and sent["arguments"][0]["id"] == message_id


async def test_join_group_waits_for_presence_before_answering() -> None:
    """With late signals, an invoke() that completes has still taken effect."""
    client = FakeDurableClient(lag=3)
    await connect(client, "ada", "c-ada")
    await call("join_group", client, invocation("joinGroup", "c-ada", "team"))
    assert client.pending == [], "the change was confirmed before the function returned"
    _, out = await call("send_to_group", client, invocation("sendToGroup", "team", "hi"))
    assert out.items()[0]["groupName"] == "team"


async def test_leave_group_removes_membership(client: FakeDurableClient) -> None:
    await connect(client, "ada", "c-ada")
    await call("join_group", client, invocation("joinGroup", "c-ada", "team"))
    _, out = await call("leave_group", client, invocation("leaveGroup", "c-ada", "team"))
    assert out.items() == [{"action": "remove", "groupName": "team", "connectionId": "c-ada"}]
    with pytest.raises(NotAllowed):
        await call("send_to_group", client, invocation("sendToGroup", "team", "hi"))


@pytest.mark.parametrize("name", ["join_group", "leave_group"])
async def test_group_changes_of_other_connections_need_an_admin(
    client: FakeDurableClient, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv("CHAT_ADMINS", "root")
    await connect(client, "bob", "c-bob")
    event = "joinGroup" if name == "join_group" else "leaveGroup"
    with pytest.raises(NotAllowed):
        await call(name, client, invocation(event, "c-bob", "team"))
    assert [op for _, op, _ in client.signals] == ["connect"]
    _, out = await call(name, client, invocation(event, "c-bob", "team", user="root",
                                                cid="c-root"))
    assert out.items()[0]["connectionId"] == "c-bob"


async def test_join_group_refuses_bad_group_names(client: FakeDurableClient) -> None:
    with pytest.raises(InvalidGroupName):
        await call("join_group", client, invocation("joinGroup", "c-ada", "no/slash"))


async def test_join_user_to_group_covers_all_of_the_users_connections(
    client: FakeDurableClient,
) -> None:
    await connect(client, "ada", "c-1")
    _, out = await call("join_user_to_group", client, invocation("joinUserToGroup", "ada", "team",
                                                                 cid="c-1"))
    assert out.items() == [{"action": "add", "groupName": "team", "userId": "ada"}]
    await connect(client, "ada", "c-2")
    _, out = await call("send_to_group", client, invocation("sendToGroup", "team", "hi",
                                                            cid="c-2"))
    assert out.items()[0]["groupName"] == "team"
    _, out = await call("leave_user_from_group", client,
                        invocation("leaveUserFromGroup", "ada", "team"))
    assert out.items() == [{"action": "remove", "groupName": "team", "userId": "ada"}]


@pytest.mark.parametrize(("name", "event"), [("join_user_to_group", "joinUserToGroup"),
                                             ("leave_user_from_group", "leaveUserFromGroup")])
async def test_user_group_changes_for_others_need_an_admin(
    client: FakeDurableClient, monkeypatch: pytest.MonkeyPatch, name: str, event: str
) -> None:
    monkeypatch.setenv("CHAT_ADMINS", "root, ops")
    with pytest.raises(NotAllowed):
        await call(name, client, invocation(event, "bob", "team"))
    assert client.signals == []
    _, out = await call(name, client, invocation(event, "bob", "team", user="ops"))
    assert out.items()[0]["userId"] == "bob"


def test_app_indexes_with_portable_binding_names() -> None:
    """What the Azure host checks: camelCase binding names, one trigger per function."""
    import re

    names = re.compile(r"^[a-zA-Z][a-zA-Z0-9]{0,127}$")
    for function in FUNCTIONS:
        bindings = [json.loads(raw) for raw in function.get_raw_bindings()]
        assert sum(b["type"].lower().endswith("trigger") for b in bindings) == 1
        for binding in bindings:
            assert binding["name"] == "$return" or names.match(binding["name"]), binding
            if binding["type"] == "entityTrigger":
                assert binding["name"] == "context"


def test_app_declares_the_whole_original_hub_contract() -> None:
    """Same event names and argument order as the original sample (issue 8 §1)."""
    triggers = {}
    for function in FUNCTIONS:
        for raw in function.get_raw_bindings():
            binding = json.loads(raw)
            if binding["type"] == "signalRTrigger":
                triggers[binding["event"]] = binding.get("parameterNames", [])
    assert triggers == {
        "connected": [], "disconnected": [],
        "broadcast": ["text"], "sendToGroup": ["group", "text"], "sendToUser": ["user", "text"],
        "sendToConnection": ["connectionId", "text"], "joinGroup": ["connectionId", "group"],
        "leaveGroup": ["connectionId", "group"], "joinUserToGroup": ["user", "group"],
        "leaveUserFromGroup": ["user", "group"],
    }


REFUSALS = [
    ("broadcast", "broadcast", ("  ",), InvalidMessage),
    ("send_to_group", "sendToGroup", ("team", "hi"), NotAllowed),
    ("send_to_group", "sendToGroup", ("bad/name", "hi"), InvalidGroupName),
    ("send_to_group", "sendToGroup", ("team", ""), InvalidMessage),
    ("send_to_user", "sendToUser", ("nobody", "hi"), NotOnline),
    ("send_to_user", "sendToUser", ("x" * 65, "hi"), InvalidMessage),
    ("send_to_user", "sendToUser", ("c-bob", None), InvalidMessage),
    ("send_to_connection", "sendToConnection", ("c-gone", "hi"), NotOnline),
    ("send_to_connection", "sendToConnection", ("c bob", "hi"), InvalidMessage),
    ("send_to_connection", "sendToConnection", ("c-bob", "x" * 2001), InvalidMessage),
    ("join_group", "joinGroup", ("c-bob", "team"), NotAllowed),
    ("join_group", "joinGroup", ("c-ada", ""), InvalidGroupName),
    ("join_group", "joinGroup", ("c-ada",), InvalidMessage),
    ("leave_group", "leaveGroup", ("c-bob", "team"), NotAllowed),
    ("leave_group", "leaveGroup", ("c-ada", "x" * 65), InvalidGroupName),
    ("join_user_to_group", "joinUserToGroup", ("bob", "team"), NotAllowed),
    ("join_user_to_group", "joinUserToGroup", ("", "team"), InvalidMessage),
    ("leave_user_from_group", "leaveUserFromGroup", ("bob", "team"), NotAllowed),
    ("leave_user_from_group", "leaveUserFromGroup", ("ada", "a|b"), InvalidGroupName),
]


@pytest.mark.parametrize(("name", "event", "arguments", "error"), REFUSALS,
                         ids=[f"{r[1]}-{r[3].__name__}-{i}" for i, r in enumerate(REFUSALS)])
async def test_every_refusal_sends_nothing_and_changes_nothing(
    name: str, event: str, arguments: tuple[Any, ...], error: type[Exception],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Each refused call raises the ChatError the caller sees, is logged, and has no effect."""
    client = FakeDurableClient()
    await connect(client, "ada", "c-ada")
    await connect(client, "bob", "c-bob")
    signals_before = list(client.signals)
    out = Out()
    function = getattr(function_app, name).build().get_user_function().client_function
    with caplog.at_level("INFO", logger="chat"), pytest.raises(error):
        await function(invocation=invocation(event, *arguments), signalRMessages=out,
                       client=client)
    assert out.value is None
    assert client.signals == signals_before
    assert any(f"refused {event}" in record.getMessage() for record in caplog.records)
