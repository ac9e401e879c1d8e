"""InvocationContext JSON as the host hands it over (functions-python.md §4.2)."""

from __future__ import annotations

import json

import pytest

from chat import InvalidMessage, parse_invocation


def test_parse_invocation_reads_identity_arguments_and_headers() -> None:
    call = parse_invocation(json.dumps({
        "Arguments": ["a", 1], "Error": None, "Category": "messages", "Event": "sendToUser",
        "Hub": "chat", "ConnectionId": "c1", "UserId": "ada",
        "Headers": {"Authorization": "Bearer x", "X-ASRS-Hub": "chat"}, "Query": None,
        "Claims": None,
    }))
    assert (call.connection_id, call.user_id, call.event) == ("c1", "ada", "sendToUser")
    assert call.arguments == ("a", 1)
    assert call.authenticated
    assert call.expect("user", "text") == ("a", 1)


def test_parse_invocation_of_a_connection_event_without_user() -> None:
    call = parse_invocation(json.dumps({"Arguments": None, "ConnectionId": "c1", "UserId": "",
                                        "Headers": None, "Error": "gone"}))
    assert call.user_id is None and call.arguments == () and not call.authenticated
    assert call.error == "gone"


def test_parse_invocation_refuses_what_is_not_a_context() -> None:
    with pytest.raises(ValueError):
        parse_invocation("[]")
    with pytest.raises(ValueError):
        parse_invocation("{}")


def test_invocation_expect_names_the_contract() -> None:
    call = parse_invocation(json.dumps({"Arguments": ["x"], "ConnectionId": "c",
                                        "Event": "joinGroup"}))
    with pytest.raises(InvalidMessage, match=r"joinGroup\(connectionId, group\) takes 2 "):
        call.expect("connectionId", "group")
