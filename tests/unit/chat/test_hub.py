"""The hub's decisions: authorization from the token user only, validation, what is sent."""

from __future__ import annotations

from typing import Any

import pytest

from chat import (
    InvalidGroupName,
    InvalidMessage,
    Invocation,
    NotAllowed,
    NotOnline,
    Settings,
    broadcast_message,
    connected_outputs,
    connection_group_change,
    disconnected_outputs,
    group_message,
    private_to_connection,
    private_to_user,
    settings_from,
    user_group_change,
)
from chat.presence import apply_operation

SETTINGS = Settings(admins=frozenset({"root"}))
NOW = 1_700_000_000.0


def call(event: str, *arguments: Any, user: str | None = "ada", cid: str = "c-ada",
         headers: dict[str, str] | None = None) -> Invocation:
    return Invocation(connection_id=cid, user_id=user, event=event, arguments=arguments,
                      headers=headers or {})


def online(*pairs: tuple[str, str | None], groups: tuple[tuple[str, str], ...] = ()) -> Any:
    state = None
    for cid, user in pairs:
        state = apply_operation(state, "connect", {"connectionId": cid, "user": user})
    for cid, group in groups:
        state = apply_operation(state, "joinGroup", {"connectionId": cid, "group": group})
    return state


ROOM = online(("c-ada", "ada"), ("c-bob", "bob"), ("c-bob2", "bob"), ("c-root", "root"),
              groups=(("c-ada", "team"),))


def test_settings_from_reads_the_app_settings() -> None:
    settings = settings_from({"CHAT_ADMINS": " root, ops ,", "CHAT_MAX_MESSAGE_LENGTH": "10",
                              "CHAT_HISTORY_SIZE": "5"})
    assert settings == Settings(max_message_length=10, history_size=5,
                                admins=frozenset({"root", "ops"}))
    assert settings_from({}) == Settings()


@pytest.mark.parametrize("value", ["zero", "0", "-3", "1.5"])
def test_settings_from_refuses_a_bad_number(value: str) -> None:
    with pytest.raises(ValueError, match="CHAT_HISTORY_SIZE"):
        settings_from({"CHAT_HISTORY_SIZE": value})


def test_broadcast_message_sender_comes_from_the_token_only() -> None:
    message = broadcast_message(call("broadcast", "  hi  "), SETTINGS, id="m1", now=NOW)
    assert (message.sender, message.connection_id, message.text) == ("ada", "c-ada", "hi")
    assert "isPrivate" not in message.to_payload() and "group" not in message.to_payload()


@pytest.mark.parametrize("arguments", [(), ("a", "b")])
def test_broadcast_message_refuses_a_wrong_argument_count(arguments: tuple[str, ...]) -> None:
    with pytest.raises(InvalidMessage, match=r"broadcast\(text\) takes 1 argument"):
        broadcast_message(call("broadcast", *arguments), SETTINGS, id="m", now=NOW)


def test_broadcast_message_honours_the_configured_length() -> None:
    with pytest.raises(InvalidMessage, match="at most 3"):
        broadcast_message(call("broadcast", "abcd"), Settings(max_message_length=3), id="m",
                          now=NOW)


def test_private_to_user_reaches_the_recipient_and_echoes_to_the_sender() -> None:
    message, items = private_to_user(call("sendToUser", "bob", "psst"), SETTINGS, ROOM, id="m",
                                     now=NOW)
    payload = message.to_payload()
    assert payload["isPrivate"] is True and payload["recipient"] == "bob"
    assert items == [
        {"target": "newMessage", "arguments": [payload], "userId": "bob"},
        {"target": "newMessage", "arguments": [payload], "userId": "ada"},
    ]


def test_private_to_user_to_oneself_is_sent_once() -> None:
    _, items = private_to_user(call("sendToUser", "ada", "note"), SETTINGS, ROOM, id="m", now=NOW)
    assert [item["userId"] for item in items] == ["ada"]


def test_private_to_user_offline_recipient_tells_the_sender() -> None:
    with pytest.raises(NotOnline, match="carol is not online"):
        private_to_user(call("sendToUser", "carol", "hello?"), SETTINGS, ROOM, id="m", now=NOW)


@pytest.mark.parametrize(("user", "text"), [("x" * 65, "hi"), ("bob", " "), (None, "hi")])
def test_private_to_user_validates(user: object, text: str) -> None:
    with pytest.raises(InvalidMessage):
        private_to_user(call("sendToUser", user, text), SETTINGS, ROOM, id="m", now=NOW)


def test_private_to_connection_reaches_it_and_echoes_to_the_sender() -> None:
    message, items = private_to_connection(call("sendToConnection", "c-bob2", "hey"), SETTINGS,
                                           ROOM, id="m", now=NOW)
    payload = message.to_payload()
    assert payload["recipient"] == "bob" and payload["isPrivate"] is True
    assert items == [
        {"target": "newMessage", "arguments": [payload], "connectionId": "c-bob2"},
        {"target": "newMessage", "arguments": [payload], "userId": "ada"},
    ]


def test_private_to_connection_of_ones_own_user_is_sent_once_to_the_user() -> None:
    state = online(("c-ada", "ada"), ("c-ada2", "ada"))
    _, items = private_to_connection(call("sendToConnection", "c-ada2", "x"), SETTINGS, state,
                                     id="m", now=NOW)
    assert items == [{"target": "newMessage", "arguments": [items[0]["arguments"][0]],
                      "userId": "ada"}]


def test_private_to_connection_from_an_anonymous_caller_echoes_to_its_connection() -> None:
    state = online(("c-anon", None), ("c-bob", "bob"))
    _, items = private_to_connection(call("sendToConnection", "c-bob", "x", user=None,
                                          cid="c-anon"), SETTINGS, state, id="m", now=NOW)
    assert [item.get("connectionId") for item in items] == ["c-bob", "c-anon"]


@pytest.mark.parametrize(("target", "error"),
                         [("c-gone", NotOnline), ("", InvalidMessage), ("a b", InvalidMessage)])
def test_private_to_connection_refuses(target: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        private_to_connection(call("sendToConnection", target, "x"), SETTINGS, ROOM, id="m",
                              now=NOW)


def test_group_message_by_a_member_goes_to_the_group() -> None:
    message, items = group_message(call("sendToGroup", " team ", "hi team"), SETTINGS, ROOM,
                                   id="m", now=NOW)
    assert message.to_payload()["group"] == "team"
    assert items == [{"target": "newMessage", "arguments": [message.to_payload()],
                      "groupName": "team"}]


@pytest.mark.parametrize("user", ["bob", "root"])
def test_group_message_by_a_non_member_is_refused_even_for_admins(user: str) -> None:
    with pytest.raises(NotAllowed, match="Only members of team"):
        group_message(call("sendToGroup", "team", "hi", user=user, cid=f"c-{user}"), SETTINGS,
                      ROOM, id="m", now=NOW)


@pytest.mark.parametrize("group", ["", "   ", "x" * 65, "semi;colon", "tab\tname", "é", 7])
def test_group_message_refuses_bad_group_names(group: object) -> None:
    with pytest.raises(InvalidGroupName):
        group_message(call("sendToGroup", group, "hi"), SETTINGS, ROOM, id="m", now=NOW)


def test_connection_group_change_on_ones_own_connection() -> None:
    change = connection_group_change(call("joinGroup", "c-ada", "Book club_1-a"), SETTINGS, ROOM,
                                     joining=True)
    assert change.operation == "joinGroup"
    assert change.item == {"action": "add", "groupName": "Book club_1-a", "connectionId": "c-ada"}
    leave = connection_group_change(call("leaveGroup", "c-ada", "team"), SETTINGS, ROOM,
                                    joining=False)
    assert leave.item == {"action": "remove", "groupName": "team", "connectionId": "c-ada"}
    assert leave.applied(apply_operation(ROOM, "leaveGroup", leave.data))
    assert not leave.applied(ROOM)


@pytest.mark.parametrize("joining", [True, False])
def test_connection_group_change_on_another_connection_needs_an_admin(joining: bool) -> None:
    with pytest.raises(NotAllowed, match="your own connection"):
        connection_group_change(call("joinGroup", "c-bob", "team"), SETTINGS, ROOM,
                                joining=joining)
    admin = call("joinGroup", "c-bob", "team", user="root", cid="c-root")
    change = connection_group_change(admin, SETTINGS, ROOM, joining=joining)
    assert change.item["connectionId"] == "c-bob"


def test_connection_group_change_by_an_admin_needs_a_live_connection() -> None:
    admin = call("joinGroup", "c-gone", "team", user="root", cid="c-root")
    with pytest.raises(NotOnline):
        connection_group_change(admin, SETTINGS, ROOM, joining=True)


def test_user_group_change_for_oneself_or_by_an_admin() -> None:
    change = user_group_change(call("joinUserToGroup", "ada", "team"), SETTINGS, joining=True)
    assert change.item == {"action": "add", "groupName": "team", "userId": "ada"}
    admin = call("leaveUserFromGroup", "bob", "team", user="root")
    assert user_group_change(admin, SETTINGS, joining=False).item == {
        "action": "remove", "groupName": "team", "userId": "bob"}


@pytest.mark.parametrize("user", ["ada", None])
def test_user_group_change_for_someone_else_is_refused(user: str | None) -> None:
    with pytest.raises(NotAllowed, match="only add yourself"):
        user_group_change(call("joinUserToGroup", "bob", "team", user=user), SETTINGS,
                          joining=True)


def test_connected_outputs_history_online_list_and_arrival() -> None:
    history = {"messages": [{"id": "m1", "time": "1"}, {"id": "m2", "time": "2"}]}
    state = online(("c-ada", "ada"))
    items = connected_outputs(call("connected", headers={"authorization": "Bearer x"}),
                              Settings(history_size=1), state, history)
    assert items == [
        {"target": "history", "arguments": [[{"id": "m2", "time": "2"}]], "connectionId": "c-ada"},
        {"target": "onlineUsers", "arguments": [{"users": [{"user": "ada", "connections": 1}],
                                                 "version": 1}], "connectionId": "c-ada"},
        {"target": "userJoined", "arguments": [{"user": "ada", "version": 1}]},
        {"target": "newConnection",
         "arguments": [{"connectionId": "c-ada", "authentication": True}]},
    ]


def test_connected_outputs_second_connection_announces_no_join() -> None:
    state = online(("c-ada", "ada"), ("c-ada2", "ada"))
    items = connected_outputs(call("connected", cid="c-ada2"), SETTINGS, state, None)
    assert [item["target"] for item in items] == ["history", "onlineUsers", "newConnection"]
    assert items[0]["arguments"] == [[]]


def test_disconnected_outputs_user_left_only_on_the_last_connection() -> None:
    state = apply_operation(online(("c-ada", "ada")), "disconnect", {"connectionId": "c-ada"})
    assert disconnected_outputs(call("disconnected"), state) == [
        {"target": "userLeft", "arguments": [{"user": "ada", "version": 2}]}
    ]
    state = apply_operation(online(("c-ada", "ada"), ("c-2", "ada")), "disconnect",
                            {"connectionId": "c-ada"})
    assert disconnected_outputs(call("disconnected"), state) == []


def test_connected_outputs_reapply_the_users_group_memberships() -> None:
    state = apply_operation(online(("c-ada", "ada")), "joinUser", {"user": "ada", "group": "g"})
    state = apply_operation(state, "joinUser", {"user": "bob", "group": "h"})
    items = connected_outputs(call("connected"), SETTINGS, state, None)
    assert items[0] == {"action": "add", "groupName": "g", "userId": "ada"}
    assert [item.get("target") for item in items[1:]] == ["history", "onlineUsers", "userJoined",
                                                         "newConnection"]


def test_settings_ignore_admins_where_names_are_typed_in() -> None:
    """On an Azure site without App Service Authentication anyone can claim an admin's name."""
    from chat import settings_from

    local = {"CHAT_ADMINS": "ada, bob"}
    assert settings_from(local).admins == {"ada", "bob"}
    azure_open = {**local, "WEBSITE_SITE_NAME": "chat-app"}
    assert settings_from(azure_open).admins == frozenset()
    azure_signed_in = {**azure_open, "WEBSITE_AUTH_ENABLED": "True"}
    assert settings_from(azure_signed_in).admins == {"ada", "bob"}
