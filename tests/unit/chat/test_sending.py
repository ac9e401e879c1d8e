"""Sends as decisions: checked arguments, who may send, who receives, retries keep their id."""

from __future__ import annotations

import pytest

from chat import (
    InvalidGroupName,
    InvalidMessage,
    Members,
    NotAllowed,
    NotOnline,
    Settings,
    broadcast_message,
    group_message,
    keyed_message_id,
    private_to_connection,
    private_to_user,
    read_draft,
)
from tests.unit.chat.calls import STAMP, call, shard

SETTINGS = Settings()


@pytest.mark.parametrize(("event", "arguments", "to"), [
    ("broadcast", ("hi",), None), ("sendToGroup", (" team ", "hi"), "team"),
    ("sendToUser", ("bob", "hi"), "bob"), ("sendToConnection", ("c-bob", "hi"), "c-bob"),
])
def test_read_draft_checks_each_send_and_its_optional_client_id(
    event: str, arguments: tuple[str, ...], to: str | None,
) -> None:
    draft = read_draft(call(event, *arguments), SETTINGS)
    assert (draft.to, draft.text, draft.client_message_id) == (to, "hi", None)
    keyed = read_draft(call(event, *arguments, "k-1"), SETTINGS)
    assert keyed.client_message_id == "k-1"


@pytest.mark.parametrize(("event", "arguments", "error"), [
    ("broadcast", (), InvalidMessage), ("broadcast", ("a", "b", "c"), InvalidMessage),
    ("broadcast", ("hi", "bad id"), InvalidMessage), ("broadcast", ("  ",), InvalidMessage),
    ("sendToGroup", ("a/b", "hi"), InvalidGroupName), ("sendToUser", ("x" * 65, "hi"),
                                                         InvalidMessage),
    ("sendToConnection", ("c 1", "hi"), InvalidMessage),
])
def test_read_draft_refuses_bad_arguments(event: str, arguments: tuple[object, ...],
                                          error: type[Exception]) -> None:
    with pytest.raises(error):
        read_draft(call(event, *arguments), SETTINGS)


def test_broadcast_message_to_everyone_and_the_history() -> None:
    decision = broadcast_message(call("broadcast"), read_draft(call("broadcast", " hi "),
                                                               SETTINGS), STAMP)
    [item] = decision.items
    assert item["target"] == "newMessage" and "connectionId" not in item
    payload = item["arguments"][0]
    assert (payload["id"], payload["sender"], payload["text"]) == ("m-1", "ada", "hi")
    [signal] = decision.signals
    assert (signal.entity, signal.key, signal.operation, signal.data) == (
        "ChatRoom", "lobby", "append", payload)
    assert decision.result == "m-1"


def test_broadcast_message_with_a_client_id_has_the_same_id_on_every_retry() -> None:
    draft = read_draft(call("broadcast", "hi", "k-1"), SETTINGS)
    first = broadcast_message(call("broadcast"), draft, STAMP)
    again = broadcast_message(call("broadcast", cid="c-new"), draft, STAMP.__class__(
        id="m-2", now=STAMP.now + 5))
    assert first.result == again.result == keyed_message_id("u:ada", "k-1")
    assert first.client_message_id == "k-1"


def test_private_to_user_needs_the_recipient_online() -> None:
    draft = read_draft(call("sendToUser", "bob", "psst"), SETTINGS)
    with pytest.raises(NotOnline, match="bob is not online"):
        private_to_user(call("sendToUser"), draft, STAMP, online=False)
    decision = private_to_user(call("sendToUser"), draft, STAMP, online=True)
    assert [(i.get("userId"), i["arguments"][0]["recipient"]) for i in decision.items] == [
        ("bob", "bob"), ("ada", "bob")]
    assert decision.items[0]["arguments"][0]["isPrivate"] is True
    to_self = private_to_user(call("sendToUser"), read_draft(call("sendToUser", "ada", "me"),
                                                             SETTINGS), STAMP, online=True)
    assert [i.get("userId") for i in to_self.items] == ["ada"]


def test_private_to_connection_of_someone_else_or_ones_own() -> None:
    other = read_draft(call("sendToConnection", "c-bob", "hey"), SETTINGS)
    with pytest.raises(NotOnline):
        private_to_connection(call("x"), other, STAMP, shard("ada", "c-ada"), exists=False)
    decision = private_to_connection(call("x"), other, STAMP, shard("ada", "c-ada"), exists=True)
    assert [(i.get("connectionId"), i.get("userId")) for i in decision.items] == [
        ("c-bob", None), (None, "ada")]
    assert decision.items[0]["arguments"][0]["recipient"] == "c-bob"
    mine = read_draft(call("sendToConnection", "c-ada2", "note"), SETTINGS)
    own = private_to_connection(call("x"), mine, STAMP, shard("ada", "c-ada", "c-ada2"),
                                exists=True)
    assert [(i.get("userId"), i["arguments"][0]["recipient"]) for i in own.items] == [
        ("ada", "ada")]
    anonymous = private_to_connection(call("x", user=None), other, STAMP, shard(None),
                                      exists=True)
    assert [i.get("connectionId") for i in anonymous.items] == ["c-bob", "c-ada"]


def test_group_message_only_for_members_by_connection_or_by_user() -> None:
    draft = read_draft(call("sendToGroup", "team", "hi"), SETTINGS)
    with pytest.raises(NotAllowed, match="Only members of team"):
        group_message(call("x"), draft, STAMP, shard("ada", "c-ada"), Members())
    by_connection = group_message(call("x"), draft, STAMP, shard("ada", "c-ada"),
                                  Members(("c-ada",)))
    assert by_connection.items[0]["groupName"] == "team"
    assert by_connection.items[0]["arguments"][0]["group"] == "team"
    by_user = shard("ada", "c-ada").join_user_group("team")
    assert group_message(call("x"), draft, STAMP, by_user, Members()).result == "m-1"
