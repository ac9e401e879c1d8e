"""signalR output classification, REST request building and connection info."""

from __future__ import annotations

import json

import jwt
import pytest

from emulator.contracts import parse_connection_string
from emulator.errors import OutputBindingError
from emulator.functions.signalr_output import (
    build_connection_info,
    build_rest_calls,
    connection_string_from,
    custom_claims,
)

KEY = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH"
CONN = parse_connection_string(f"Endpoint=http://localhost;Port=8888;AccessKey={KEY};Version=1.0;")
BASE = "http://localhost:8888/api/hubs/chat"
Q = "?api-version=2022-06-01"


@pytest.mark.parametrize(("item", "method", "path"), [
    ({"target": "t", "arguments": []}, "POST", "/:send"),
    ({"Target": "t", "Arguments": [], "GROUPNAME": "g"}, "POST", "/groups/g/:send"),
    ({"target": "t", "arguments": [], "userId": "u", "groupName": "g"}, "POST", "/users/u/:send"),
    ({"target": "t", "arguments": [], "connectionId": "c", "userId": "u"}, "POST",
     "/connections/c/:send"),
    ({"target": "t", "arguments": [], "userId": "a b/c"}, "POST", "/users/a%20b%2Fc/:send"),
    ({"action": "add", "groupName": "g", "connectionId": "c"}, "PUT", "/groups/g/connections/c"),
    ({"action": "Remove", "groupName": "g", "connectionId": "c"}, "DELETE",
     "/groups/g/connections/c"),
    ({"action": "add", "groupName": "g", "userId": "u"}, "PUT", "/users/u/groups/g"),
    ({"action": "remove", "groupName": "g", "userId": "u"}, "DELETE", "/users/u/groups/g"),
    ({"action": "removeAll", "userId": "u"}, "DELETE", "/users/u/groups"),
])
def test_signalr_output_routes_each_item(item, method, path) -> None:
    [call] = build_rest_calls(CONN, "Chat", json.dumps(item))
    assert (call.method, call.url) == (method, BASE + path + Q)
    assert call.audience == "http://localhost/api/hubs/chat" + path + Q
    if "target" in {k.lower() for k in item}:
        assert json.loads(call.body) == {"Target": "t", "Arguments": []}
    else:
        assert call.body is None


def test_signalr_output_remove_all_for_connection_is_ignored() -> None:
    assert build_rest_calls(CONN, "chat", {"action": "removeAll", "connectionId": "c"}) == []


def test_signalr_output_array_keeps_order() -> None:
    value = [{"target": "a", "arguments": [1]}, {"target": "b", "arguments": [2]}]
    calls = build_rest_calls(CONN, "chat", json.dumps(value))
    assert [json.loads(c.body)["Target"] for c in calls] == ["a", "b"]


@pytest.mark.parametrize(("value", "message"), [
    ("not json", "not JSON"),
    ('{"hello": 1}', "Unable to convert JObject"),
    ('[1]', "each item must be a JSON object"),
    ('{"target": "t", "arguments": "x"}', "'arguments' must be an array"),
    ('{"action": "jump", "groupName": "g", "userId": "u"}', "action must be"),
    ('{"action": "add", "groupName": "g"}', "ConnectionId and UserId cannot be null"),
    ('{"action": "add", "userId": "u"}', "groupName is required"),
])
def test_signalr_output_refuses_malformed_values(value, message) -> None:
    with pytest.raises(OutputBindingError, match=message):
        build_rest_calls(CONN, "chat", value)


def test_signalr_connection_info_token() -> None:
    info = json.loads(build_connection_info(CONN, "Chat", now=1000, user_id="u1",
                                            claims={"role": "admin"}))
    assert info["url"] == "http://localhost:8888/client/?hub=chat"
    claims = jwt.decode(info["accessToken"], KEY.encode(), algorithms=["HS256"],
                        options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
                        audience="http://localhost/client/?hub=chat")
    assert (claims["asrs.s.uid"], claims["role"], claims["exp"]) == ("u1", "admin", 4600)


def test_signalr_custom_claims_copy_listed_types_only() -> None:
    id_token = jwt.encode({"role": "admin", "email": "a@b", "sub": "x"},
                          "a-key-long-enough-for-hmac-sha256-signing")
    assert custom_claims(id_token, ["role", "email"]) == {"role": "admin", "email": "a@b"}
    assert custom_claims(None, ["role"]) == {}


@pytest.mark.parametrize(("settings", "message"), [
    ({}, "'Conn' is not set"),
    ({"Conn": "Endpoint=nope;AccessKey=x"}, "not a valid SignalR connection string"),
])
def test_signalr_connection_string_errors_name_the_setting(settings, message) -> None:
    with pytest.raises(OutputBindingError, match=message) as caught:
        connection_string_from(settings, "Conn")
    assert "AccessKey=x" not in str(caught.value)
