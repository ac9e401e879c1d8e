"""Requests to the service's REST API, described as data."""

from __future__ import annotations

import json

import pytest

from chat import Endpoint, endpoint_from
from chat.outputs import add_connection, add_user, remove_user, to_all, to_group, to_user
from chat.service import (
    IDENTITY_RESOURCE,
    close_connection_request,
    connection_exists_request,
    identity_token_request,
    parse_connection_string,
    parse_identity_token,
    send_request,
    user_exists_request,
)

LOCAL = Endpoint(url="http://localhost:8888", access_key="k")
SETTING = "AzureSignalRConnectionString"


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({SETTING: "Endpoint=http://localhost;Port=8888;AccessKey=k;Version=1.0;"}, LOCAL),
        ({SETTING: "Endpoint=https://a.service.signalr.net;AccessKey=k;"},
         Endpoint(url="https://a.service.signalr.net", access_key="k")),
        ({SETTING: "Endpoint=https://a.example;ServerEndpoint=https://b.example;AccessKey=k"},
         Endpoint(url="https://b.example", access_key="k")),
        ({SETTING: "Endpoint=https://a.example;AuthType=azure.msi;ClientId=id"},
         Endpoint(url="https://a.example", client_id="id")),
        ({f"{SETTING}__serviceUri": "https://a.service.signalr.net/",
          f"{SETTING}__clientId": "id"},
         Endpoint(url="https://a.service.signalr.net", client_id="id")),
        ({SETTING: "Endpoint=http://[::1];Port=8888;AccessKey=k"},
         Endpoint(url="http://[::1]:8888", access_key="k")),
        ({}, None), ({SETTING: "garbage"}, None), ({SETTING: "Endpoint=nowhere"}, None),
    ],
)
def test_endpoint_from_reads_key_and_identity_forms(settings: dict[str, str],
                                                    expected: Endpoint | None) -> None:
    assert endpoint_from(settings, SETTING) == expected


def test_parse_connection_string_lowercases_keys_and_skips_junk() -> None:
    assert parse_connection_string(" Endpoint = x ;junk;AccessKey=a=b;") == {
        "endpoint": "x", "accesskey": "a=b"}


def test_connection_exists_request_is_a_head_with_encoded_segments() -> None:
    request = connection_exists_request(LOCAL, "Chat", "a/b c")
    assert request.method == "HEAD" and request.body is None
    assert request.audience == "http://localhost:8888/api/hubs/chat/connections/a%2Fb%20c"
    assert request.url == request.audience + "?api-version=2022-06-01"


def test_user_exists_and_close_requests() -> None:
    assert user_exists_request(LOCAL, "chat", "O'Brien").audience.endswith("/users/O%27Brien")
    close = close_connection_request(LOCAL, "chat", "c1", "too many tabs")
    assert close.method == "DELETE"
    assert close.url.endswith("/connections/c1?reason=too+many+tabs&api-version=2022-06-01")


@pytest.mark.parametrize(
    ("item", "method", "path"),
    [
        (to_all("newMessage", {"x": 1}), "POST", "/:send"),
        (to_user("b ob", "newMessage", 1), "POST", "/users/b%20ob/:send"),
        (to_group("team", "newMessage", 1), "POST", "/groups/team/:send"),
        (add_connection("c1", "g 1"), "PUT", "/groups/g%201/connections/c1"),
        (add_user("ada", "g"), "PUT", "/users/ada/groups/g"),
        (remove_user("ada", "g"), "DELETE", "/users/ada/groups/g"),
    ],
)
def test_send_request_for_each_kind_of_item(item: dict[str, object], method: str,
                                            path: str) -> None:
    request = send_request(LOCAL, "chat", item)
    assert request.method == method
    assert request.audience == f"http://localhost:8888/api/hubs/chat{path}"
    if "target" in item:
        assert json.loads(request.body or b"") == {"target": item["target"],
                                                   "arguments": item["arguments"]}
    else:
        assert request.body is None


def test_identity_token_request_and_answer() -> None:
    url, headers = identity_token_request("http://169.254.1.1/msi/token", "secret", "cid")
    assert url.startswith("http://169.254.1.1/msi/token?resource=")
    assert "client_id=cid" in url and "api-version=2019-08-01" in url
    assert IDENTITY_RESOURCE.replace(":", "%3A").replace("/", "%2F") in url
    assert headers == {"X-IDENTITY-HEADER": "secret"}
    assert parse_identity_token({"access_token": "t", "expires_on": "1700000000"}) == (
        "t", 1_700_000_000.0)
    for answer in ({}, {"access_token": "t", "expires_on": "soon"}, []):
        with pytest.raises(ValueError):
            parse_identity_token(answer)
