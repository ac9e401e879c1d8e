"""The hub's functions of function_app.py called the way the worker calls them.

Durable-client functions run through ``build().get_user_function().client_function`` with the
fake durable client (signals run late, through the real entity functions) and the fake service.
"""

from __future__ import annotations

from typing import Any

import pytest

import function_app
from chat import (
    InvalidGroupName,
    InvalidMessage,
    LimitReached,
    NotAllowed,
    NotOnline,
    Presence,
    TooFast,
    TryAgain,
    entity_key,
)
from chat_io import instance
from tests.unit.chat.function_app_fakes import FakeDurableClient, FakeService, Out, invocation

KEY_ADA = entity_key("u:ada")


async def call(name: str, client: FakeDurableClient, context: str) -> tuple[Any, Out]:
    """A durable-client function's own code, with keyword arguments as the middleware passes."""
    function = getattr(function_app, name).build().get_user_function().client_function
    out = Out()
    result = await function(invocation=context, signalRMessages=out, client=client)
    await instance().feed.drained()
    return result, out


async def connect(client: FakeDurableClient, service: FakeService, user: str | None,
                  cid: str) -> Out:
    service.online[cid] = user  # the service registers a connection before "connected"
    _, out = await call("on_connected", client,
                        invocation("connected", user=user, cid=cid, category="connections"))
    return out


async def disconnect(client: FakeDurableClient, service: FakeService, user: str | None,
                     cid: str) -> Out:
    service.online.pop(cid, None)
    _, out = await call("on_disconnected", client,
                        invocation("disconnected", user=user, cid=cid, category="connections"))
    return out


def events(service: FakeService, target: str) -> list[Any]:
    return [item["arguments"][0] for item in service.sent if item.get("target") == target]


@pytest.fixture
def client() -> FakeDurableClient:
    return FakeDurableClient()


# -- connection events ----------------------------------------------------------------------------


async def test_on_connected_sends_list_history_and_notice_then_announces(
    client: FakeDurableClient, service: FakeService,
) -> None:
    out = await connect(client, service, "ada", "c-ada")
    assert out.value is None, "sent directly, each on its own"
    assert service.targets("c-ada") == ["onlineUsers", "history", "newConnection"]
    assert events(service, "onlineUsers") == [{"users": [["ada", 1, 1]], "count": 1}]
    assert events(service, "history") == [[]]
    assert events(service, "userJoined") == [{"user": "ada", "connections": 1, "version": 1}]
    assert client.state("Roster", "chat")["online"][KEY_ADA]["connections"] == 1


async def test_on_connected_waits_until_presence_shows_the_connection(
    service: FakeService,
) -> None:
    """Signals run late (after two reads): the function reads back until its change shows."""
    client = FakeDurableClient(lag=2)
    await connect(client, service, "ada", "c-1")
    await connect(client, service, "ada", "c-2")
    assert [e["user"] for e in events(service, "userJoined")] == ["ada"]
    assert events(service, "userUpdated") == [{"user": "ada", "connections": 2, "version": 2}]


async def test_on_connected_goes_on_with_the_expected_state_when_presence_is_slow(
    service: FakeService, caplog: pytest.LogCaptureFixture,
) -> None:
    client = FakeDurableClient(lag=100)
    await connect(client, service, "ada", "c-1")
    assert events(service, "userJoined") == [{"user": "ada", "connections": 1, "version": 1}]
    assert "not confirmed within the wait" in caplog.text


async def test_on_connected_prunes_a_ghost_so_the_returning_user_is_announced(
    client: FakeDurableClient, service: FakeService,
) -> None:
    await connect(client, service, "ada", "c-old")
    service.online.pop("c-old")  # the stack died: no "disconnected" ever came
    service.sent.clear()
    await connect(client, service, "ada", "c-new")
    assert events(service, "userJoined") == [{"user": "ada", "connections": 1, "version": 3}]
    assert list(client.state("Presence", KEY_ADA)["connections"]) == ["c-new"]


async def test_on_connected_closes_one_connection_too_many(
    client: FakeDurableClient, service: FakeService, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("chat.connections.MAX_CONNECTIONS", 2)
    for cid in ("c1", "c2", "c3"):
        await connect(client, service, "ada", cid)
    assert [cid for cid, _ in service.closed] == ["c3"]
    assert list(Presence.from_json(client.state("Presence", KEY_ADA)).connections) == ["c1",
                                                                                       "c2"]


async def test_on_connected_without_direct_calls_uses_the_binding_in_order(
    client: FakeDurableClient, service: FakeService,
) -> None:
    service.usable = False
    out = await connect(client, service, "ada", "c-ada")
    assert [item.get("target") for item in out.items()] == [
        "onlineUsers", "history", "newConnection", "userJoined"]
    assert client.state("Roster", "chat")["online"][KEY_ADA]["version"] == 1


async def test_on_connected_reapplies_the_users_groups(
    client: FakeDurableClient, service: FakeService,
) -> None:
    await connect(client, service, "ada", "c-1")
    await call("join_user_to_group", client, invocation("joinUserToGroup", "ada", "regulars",
                                                        cid="c-1"))
    service.sent.clear()
    await connect(client, service, "ada", "c-2")
    assert {"action": "add", "groupName": "regulars", "userId": "ada"} in service.sent


async def test_on_disconnected_user_left_after_the_last_connection(
    client: FakeDurableClient, service: FakeService,
) -> None:
    await connect(client, service, "ada", "c-1")
    await connect(client, service, "ada", "c-2")
    await disconnect(client, service, "ada", "c-1")
    assert events(service, "userLeft") == []
    await disconnect(client, service, "ada", "c-2")
    assert events(service, "userLeft") == [{"user": "ada", "version": 4}]
    assert client.state("Roster", "chat")["online"] == {}


async def test_on_disconnected_without_direct_calls_uses_the_binding(
    client: FakeDurableClient, service: FakeService,
) -> None:
    await connect(client, service, "ada", "c-1")
    service.usable = False
    out = await disconnect(client, service, "ada", "c-1")
    assert out.items() == [{"target": "userLeft", "arguments": [{"user": "ada", "version": 2}]}]


# -- messages -------------------------------------------------------------------------------------


async def test_broadcast_sends_new_message_from_the_token_user(
    client: FakeDurableClient, service: FakeService,
) -> None:
    await connect(client, service, "ada", "c-ada")
    message_id, out = await call("broadcast", client, invocation("broadcast", "  hello  "))
    [sent] = out.items()
    assert sent["target"] == "newMessage" and "connectionId" not in sent
    [message] = sent["arguments"]
    assert message["id"] == message_id
    assert (message["sender"], message["connectionId"], message["text"]) == ("ada", "c-ada",
                                                                             "hello")
    assert client.state("ChatRoom", "lobby")["messages"] == [message]
    service.sent.clear()
    await connect(client, service, "bob", "c-bob")
    assert events(service, "history") == [[message]], "the instance's view has it at once"


async def test_broadcast_retry_with_the_same_client_id_sends_nothing_again(
    client: FakeDurableClient, service: FakeService,
) -> None:
    await connect(client, service, "ada", "c-ada")
    first, out = await call("broadcast", client, invocation("broadcast", "once", "k-1"))
    again, out_again = await call("broadcast", client, invocation("broadcast", "once", "k-1",
                                                                  cid="c-ada"))
    assert first == again and first.startswith("k-")
    [sent] = out.items()
    assert out_again.items() == [{**sent, "connectionId": "c-ada"}], "to the retrying one only"
    assert client.operations("ChatRoom") == ["append"]


async def test_broadcast_refuses_a_user_sending_too_fast(
    client: FakeDurableClient, service: FakeService, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHAT_SEND_BURST", "2")
    await connect(client, service, "ada", "c-ada")
    for n in range(2):
        await call("broadcast", client, invocation("broadcast", f"m{n}"))
    with pytest.raises(TooFast, match="sending messages too fast"):
        await call("broadcast", client, invocation("broadcast", "one more"))
    await call("broadcast", client, invocation("broadcast", "bob's turn", user="bob",
                                               cid="c-bob"))


@pytest.mark.parametrize("arguments", [("",), ("   ",), ("x" * 2001,), ("é" * 2001,), (5,), (),
                                       ("a", "b", "c"), ("a", "no spaces")])
async def test_broadcast_refuses_invalid_text_and_sends_nothing(
    client: FakeDurableClient, service: FakeService, arguments: tuple[Any, ...],
) -> None:
    with pytest.raises(InvalidMessage):
        await call("broadcast", client, invocation("broadcast", *arguments))
    assert client.signals == []


async def test_broadcast_from_an_unknown_connection_registers_it(
    client: FakeDurableClient, service: FakeService,
) -> None:
    """Its ``connected`` never ran (a host outage): the first call records it and catches up."""
    service.online["c-lost"] = "ada"
    await call("broadcast", client, invocation("broadcast", "anyone?", cid="c-lost"))
    assert service.targets("c-lost") == ["onlineUsers", "history"]
    assert events(service, "userJoined") == [{"user": "ada", "connections": 1, "version": 1}]
    assert Presence.from_json(client.state("Presence", KEY_ADA)).has("c-lost")


async def test_send_to_user_asks_the_service_who_is_online(
    client: FakeDurableClient, service: FakeService,
) -> None:
    await connect(client, service, "ada", "c-ada")
    await connect(client, service, "bob", "c-bob")
    message_id, out = await call("send_to_user", client, invocation("sendToUser", "bob", "psst"))
    assert [(i["target"], i.get("userId")) for i in out.items()] == [("newMessage", "bob"),
                                                                    ("newMessage", "ada")]
    assert out.items()[0]["arguments"][0]["id"] == message_id
    service.online.pop("c-bob")  # a ghost in presence, gone from the service
    with pytest.raises(NotOnline, match="bob is not online"):
        await call("send_to_user", client, invocation("sendToUser", "bob", "psst"))


async def test_send_to_user_falls_back_to_presence_without_direct_calls(
    client: FakeDurableClient, service: FakeService,
) -> None:
    await connect(client, service, "ada", "c-ada")
    await connect(client, service, "bob", "c-bob")
    service.usable = False
    _, out = await call("send_to_user", client, invocation("sendToUser", "bob", "hi"))
    assert [item.get("userId") for item in out.items()] == ["bob", "ada"]
    with pytest.raises(NotOnline):
        await call("send_to_user", client, invocation("sendToUser", "carol", "hi"))


async def test_send_to_connection_private_to_it_and_echo(
    client: FakeDurableClient, service: FakeService,
) -> None:
    await connect(client, service, "ada", "c-ada")
    await connect(client, service, "bob", "c-bob")
    _, out = await call("send_to_connection", client,
                        invocation("sendToConnection", "c-bob", "hey"))
    assert [(i.get("connectionId"), i.get("userId")) for i in out.items()] == [
        ("c-bob", None), (None, "ada")]
    with pytest.raises(NotOnline):
        await call("send_to_connection", client, invocation("sendToConnection", "c-nope", "x"))


# -- groups ---------------------------------------------------------------------------------------


async def test_join_group_then_send_to_group(
    client: FakeDurableClient, service: FakeService,
) -> None:
    await connect(client, service, "ada", "c-ada")
    with pytest.raises(NotAllowed, match="Only members"):
        await call("send_to_group", client, invocation("sendToGroup", "team", "early"))
    group, out = await call("join_group", client, invocation("joinGroup", "c-ada", " team "))
    assert group == "team"
    assert out.items() == [{"action": "add", "groupName": "team", "connectionId": "c-ada"}]
    message_id, out = await call("send_to_group", client,
                                 invocation("sendToGroup", "team", "hi team"))
    [sent] = out.items()
    assert sent["groupName"] == "team" and sent["arguments"][0]["id"] == message_id
    _, out = await call("leave_group", client, invocation("leaveGroup", "c-ada", "team"))
    assert out.items()[0]["action"] == "remove"
    with pytest.raises(NotAllowed):
        await call("send_to_group", client, invocation("sendToGroup", "team", "gone"))


async def test_join_group_confirms_before_answering_even_when_signals_run_late(
    service: FakeService,
) -> None:
    client = FakeDurableClient(lag=2)
    await connect(client, service, "ada", "c-ada")
    await call("join_group", client, invocation("joinGroup", "c-ada", "team"))
    _, out = await call("send_to_group", client, invocation("sendToGroup", "team", "hi"))
    assert out.items()[0]["groupName"] == "team"


async def test_join_group_not_confirmed_in_time_tells_the_caller_to_retry(
    service: FakeService,
) -> None:
    client = FakeDurableClient()
    await connect(client, service, "ada", "c-ada")
    client.lag = 100
    out = Out()
    function = function_app.join_group.build().get_user_function().client_function
    with pytest.raises(TryAgain, match="Joining team is taking longer than usual"):
        await function(invocation=invocation("joinGroup", "c-ada", "team"), signalRMessages=out,
                       client=client)
    assert out.value is None, "the service is not told what presence has not confirmed"


async def test_join_group_refused_beyond_the_groups_limit(
    client: FakeDurableClient, service: FakeService, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("chat.presence.MAX_GROUPS", 1)
    await connect(client, service, "ada", "c-ada")
    await call("join_group", client, invocation("joinGroup", "c-ada", "one"))
    with pytest.raises(LimitReached, match="at most"):
        await call("join_group", client, invocation("joinGroup", "c-ada", "two"))


async def test_admin_moves_another_connection_that_the_service_has(
    client: FakeDurableClient, service: FakeService, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHAT_ADMINS", "root")
    await connect(client, service, "root", "c-root")
    await connect(client, service, "bob", "c-bob")
    with pytest.raises(NotAllowed):
        await call("join_group", client, invocation("joinGroup", "c-root", "ops", user="bob",
                                                    cid="c-bob"))
    _, out = await call("join_group", client, invocation("joinGroup", "c-bob", "ops",
                                                         user="root", cid="c-root"))
    assert out.items()[0]["connectionId"] == "c-bob"
    with pytest.raises(NotOnline):
        await call("join_group", client, invocation("joinGroup", "c-gone", "ops", user="root",
                                                    cid="c-root"))


async def test_join_user_to_group_covers_all_of_the_users_connections(
    client: FakeDurableClient, service: FakeService,
) -> None:
    await connect(client, service, "ada", "c-1")
    _, out = await call("join_user_to_group", client,
                        invocation("joinUserToGroup", "ada", "team", cid="c-1"))
    assert out.items() == [{"action": "add", "groupName": "team", "userId": "ada"}]
    await connect(client, service, "ada", "c-2")
    _, out = await call("send_to_group", client, invocation("sendToGroup", "team", "hi",
                                                            cid="c-2"))
    assert out.items()[0]["groupName"] == "team"
    _, out = await call("leave_user_from_group", client,
                        invocation("leaveUserFromGroup", "ada", "team", cid="c-2"))
    assert out.items() == [{"action": "remove", "groupName": "team", "userId": "ada"}]


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
    service: FakeService, caplog: pytest.LogCaptureFixture,
) -> None:
    """Each refused call raises the ChatError the caller sees, is logged, and has no effect."""
    client = FakeDurableClient()
    await connect(client, service, "ada", "c-ada")
    await connect(client, service, "bob", "c-bob")
    signals_before = list(client.signals)
    out = Out()
    function = getattr(function_app, name).build().get_user_function().client_function
    with caplog.at_level("INFO", logger="chat"), pytest.raises(error):
        await function(invocation=invocation(event, *arguments), signalRMessages=out,
                       client=client)
    assert out.value is None
    assert client.signals == signals_before
    assert any(f"refused {event}" in record.getMessage() for record in caplog.records)


# -- reconcile ------------------------------------------------------------------------------------


async def reconcile(client: FakeDurableClient) -> Out:
    """The timer function's own code, as the worker calls it on a schedule."""
    function = function_app.reconcile.build().get_user_function().client_function
    out = Out()
    await function(timer=None, signalRMessages=out, client=client)
    await instance().feed.drained()
    return out


async def test_reconcile_timer_prunes_ghosts_and_tells_everyone(
    client: FakeDurableClient, service: FakeService,
) -> None:
    await connect(client, service, "ada", "c-ada")
    await connect(client, service, "bob", "c-bob")
    service.online.pop("c-bob")  # lost "disconnected"
    sent = len(service.sent)
    await reconcile(client)
    assert service.sent[sent:] == [
        {"target": "userLeft", "arguments": [{"user": "bob", "version": 2}]},
        # The joins the roster applied since the last pass, for lists read before they did.
        {"target": "usersChanged", "arguments": [[
            {"user": "ada", "connections": 1, "version": 1},
            {"user": "bob", "connections": 1, "version": 1}]]}]
    assert set(client.state("Roster", "chat")["online"]) == {KEY_ADA}
    sent = len(service.sent)
    await reconcile(client)
    assert service.sent[sent:] == [{"target": "usersChanged", "arguments": [[
        {"user": "bob", "connections": 0, "version": 2}]]}], "the last pass's change, once"
    sent = len(service.sent)
    out = await reconcile(client)
    assert (out.value, service.sent[sent:]) == (None, []), "converged: the next pass is silent"


async def test_reconcile_keeps_changes_fresh_when_their_repeat_is_refused(
    client: FakeDurableClient, service: FakeService,
) -> None:
    await connect(client, service, "ada", "c-ada")
    service.refusing = True
    await reconcile(client)
    assert "repeated" not in client.operations("Roster")
    assert set(client.state("Roster", "chat")["fresh"]) == {KEY_ADA}, "for the next pass"
    service.refusing = False
    sent = len(service.sent)
    await reconcile(client)
    assert [item["target"] for item in service.sent[sent:]] == ["usersChanged"]
    assert client.state("Roster", "chat")["fresh"] == {}


async def test_reconcile_shows_at_once_in_the_online_list_a_newcomer_gets(
    client: FakeDurableClient, service: FakeService,
) -> None:
    """The instance lays the reconcile's roster changes over its cached roster, like its own
    joins and leaves: the next newcomer does not see the ghost."""
    await connect(client, service, "ada", "c-ada")
    await connect(client, service, "bob", "c-bob")
    service.online.pop("c-bob")
    await reconcile(client)
    await connect(client, service, "cy", "c-cy")
    [*_, online] = events(service, "onlineUsers")
    assert {entry[0] for entry in online["users"]} == {"ada", "cy"}
