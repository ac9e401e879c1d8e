"""InvocationContext JSON as the host hands it over, and the arguments by contract name."""

from __future__ import annotations

import json

import pytest

from chat import InvalidMessage, parse_invocation, user_owner
from tests.unit.chat.calls import call


def test_parse_invocation_reads_identity_arguments_and_headers() -> None:
    parsed = parse_invocation(json.dumps({
        "Arguments": ["a", 1], "Error": None, "Category": "messages", "Event": "sendToUser",
        "Hub": "chat", "ConnectionId": "c1", "UserId": "ada",
        "Headers": {"Authorization": "Bearer x", "X-ASRS-Hub": "chat"}, "Query": None,
        "Claims": None,
    }))
    assert (parsed.connection_id, parsed.user_id, parsed.event) == ("c1", "ada", "sendToUser")
    assert parsed.arguments == ("a", 1)
    assert parsed.authenticated
    assert parsed.expect("user", "text") == ("a", 1)


def test_parse_invocation_of_a_connection_event_without_user() -> None:
    parsed = parse_invocation(json.dumps({"Arguments": None, "ConnectionId": "c1", "UserId": "",
                                          "Headers": None, "Error": "gone"}))
    assert parsed.user_id is None and parsed.arguments == () and not parsed.authenticated
    assert parsed.error == "gone"


def test_parse_invocation_refuses_what_is_not_a_context() -> None:
    with pytest.raises(ValueError):
        parse_invocation("[]")
    with pytest.raises(ValueError):
        parse_invocation("{}")


def test_invocation_expect_names_the_contract() -> None:
    with pytest.raises(InvalidMessage, match=r"joinGroup\(connectionId, group\) takes 2 "
                                             r"arguments, got 1\."):
        call("joinGroup", "x").expect("connectionId", "group")


def test_invocation_expect_fills_an_optional_argument_left_out() -> None:
    assert call("broadcast", "hi").expect("text", "clientMessageId?") == ("hi", None)
    assert call("broadcast", "hi", "k").expect("text", "clientMessageId?") == ("hi", "k")
    for arguments in ((), ("a", "b", "c")):
        with pytest.raises(InvalidMessage, match=r"takes 1 or 2 arguments"):
            call("broadcast", *arguments).expect("text", "clientMessageId?")


def test_invocation_owner_is_the_user_else_the_connection() -> None:
    assert call("x").owner == user_owner("ada") == "u:ada"
    assert call("x", user=None, cid="c9").owner == "c:c9"
