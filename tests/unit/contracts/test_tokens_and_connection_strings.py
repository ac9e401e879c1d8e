"""The three shared modules: tokens, signatures, connection strings."""

from __future__ import annotations

import pytest

from emulator.contracts import (
    client_audience,
    client_audience_matches,
    issue_token,
    parse_connection_string,
    rest_audience_matches,
    sign_connection_id,
    user_id_from_claims,
    verify_signature,
    verify_token,
)
from emulator.errors import InvalidConnectionString, InvalidToken

KEY = "7aab239577fd4f24bc919802fb629f5f"
SECOND = "a5f2815d0d0c4b00bd27e832432f91ab"
CONNECTION_ID = "0f9c97a2f0bf4706afe87a14e0797b11"
VECTOR_1 = "sha256=7767effcb3946f3e1de039df4b986ef02c110b1469d02c0a06f41b3b727ab561"
VECTOR_2 = "sha256=d4aefb65547a00a9881fa8ac8bd03d0faf77af9da5205d45c6e57cbda4377760"


def test_signatures_match_functions_extension_vector():
    assert sign_connection_id(CONNECTION_ID, [KEY]) == VECTOR_1
    assert sign_connection_id(CONNECTION_ID, [KEY, SECOND]) == f"{VECTOR_1},{VECTOR_2}"


@pytest.mark.parametrize(("header", "ok"), [
    (VECTOR_1, True), (VECTOR_1.upper().replace("SHA256", "sha256"), True),
    (f"sha256=00,{VECTOR_2}", True), (f"{VECTOR_1}, sha256=00", True),
    ("sha256=00", False), ("", False), (None, False),
])
def test_signatures_verify_any_value_against_any_key(header, ok):
    assert verify_signature(header, CONNECTION_ID, [KEY, SECOND]) is ok


def test_tokens_round_trip_with_user_and_claims():
    audience = client_audience("http://localhost", "Chat")
    assert audience == "http://localhost/client/?hub=chat"
    token = issue_token(audience=audience, key=KEY, now=1000, user_id="u", claims={"nbf": 1})
    claims = verify_token(token, keys=[SECOND, KEY], now=1001,
                          audience_ok=lambda aud: client_audience_matches(aud, "chat"))
    assert claims["asrs.s.uid"] == "u" and claims["asrs.u.nbf"] == 1 and claims["exp"] == 4600
    assert user_id_from_claims(claims) == "u"


@pytest.mark.parametrize(("token_key", "now", "hub", "reason"), [
    (SECOND, 1001, "chat", "signature"),
    (KEY, 5000, "chat", "expired"),
    (KEY, 1001, "other", "audience"),
])
def test_tokens_refused_with_reason(token_key, now, hub, reason):
    token = issue_token(audience=client_audience("http://h", "chat"), key=token_key, now=1000)
    with pytest.raises(InvalidToken, match=reason) as info:
        verify_token(token, keys=[KEY], now=now,
                     audience_ok=lambda aud: client_audience_matches(aud, hub))
    assert info.value.status_hint == 401


@pytest.mark.parametrize("token", [None, "", "abc", "a.b.c", "x" * 5000])
def test_tokens_refuse_malformed(token):
    with pytest.raises(InvalidToken):
        verify_token(token, keys=[KEY], now=0)


@pytest.mark.parametrize(("aud", "path", "ok"), [
    ("https://x.service.signalr.net/api/hubs/chat/:send?api-version=2022-06-01",
     "/api/hubs/chat/:send", True),
    ("http://localhost:8888/api/v1/hubs/chat/", "/api/v1/hubs/Chat", True),
    ("http://localhost/api/v1/hubs/chat", "/api/v1/hubs/other", False),
])
def test_tokens_rest_audience_is_lenient(aud, path, ok):
    assert rest_audience_matches(aud, path) is ok


@pytest.mark.parametrize(("claims", "user"), [
    ({"asrs.s.uid": "a", "nameid": "b"}, "a"), ({"nameid": "b", "sub": "c"}, "b"),
    ({"sub": ["c", "d"]}, "c"),
    ({"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier": "e"}, "e"),
    ({}, None),
])
def test_tokens_user_id_order(claims, user):
    assert user_id_from_claims(claims) == user


def test_connection_string_parses_every_key():
    parsed = parse_connection_string(
        "endpoint=http://localhost/;Port=8888;ACCESSKEY=k=1;Version=1.0;"
        "ClientEndpoint=http://c:1;ServerEndpoint=http://s:2;")
    assert parsed.endpoint == "http://localhost:8888"
    assert parsed.access_key == "k=1"
    assert (parsed.client_base, parsed.server_base) == ("http://c:1", "http://s:2")
    assert (parsed.audience_base, parsed.port, parsed.host) == ("http://localhost", 8888,
                                                                "localhost")


@pytest.mark.parametrize("text", [
    "", "Endpoint=http://x", "AccessKey=k;Version=1.0", "Endpoint=ftp://x;AccessKey=k",
    "Endpoint=http://x;AccessKey=k;Port=0", "Endpoint=http://x;AccessKey=k;Version=2.0",
    "Endpoint=http://x;AccessKey=k;accesskey=j", "Endpoint=http://x;AccessKey=k;Bogus=1",
    "Endpoint=http://x;Version=1.0", "Endpoint=http://x;novalue",
])
def test_connection_string_refuses_malformed(text):
    with pytest.raises(InvalidConnectionString):
        parse_connection_string(text)


@pytest.mark.parametrize(("header", "connection_id"), [("\x80", ""), ("sha256=é", "x"),
                                                       ("sha256=00", "\ud800")])
def test_signatures_verify_odd_text_without_raising(header, connection_id):
    assert verify_signature(header, connection_id, [KEY]) is False
