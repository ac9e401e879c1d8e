"""Upstream templates, URLs, headers, bodies and completion mapping.

docs/serverless-contracts.md, "Upstream".
"""

from __future__ import annotations

import json

import pytest

from emulator.contracts.json_hub import JsonHubProtocol
from emulator.contracts.messages import Invocation
from emulator.contracts.msgpack_hub import MessagePackHubProtocol
from emulator.signalr.protocol.upstream import (
    UpstreamTemplate,
    build_upstream_headers,
    completion_for_response,
    connected_body,
    disconnected_body,
    expand_url,
    find_template,
    format_claims,
    invocation_body,
    strip_query_secrets,
)

JSON = JsonHubProtocol()

MATCH_CASES = [
    # (hub pattern, category pattern, event pattern, hub, category, event, matches)
    ("*", "*", "*", "chat", "messages", "send", True),
    ("chat", "*", "*", "chat", "messages", "send", True),
    ("chat", "*", "*", "Chat", "messages", "send", False),
    ("a, chat ,b", "*", "*", "chat", "messages", "send", True),
    ("a,*", "*", "*", "zzz", "messages", "send", True),
    ("*", "connections", "*", "chat", "messages", "send", False),
    ("*", "*", "connected,disconnected", "chat", "connections", "connected", True),
    ("*", "*", "connected,disconnected", "chat", "messages", "broadcast", False),
    (None, "*", "*", "chat", "messages", "send", False),
]


@pytest.mark.parametrize(("hub_p", "cat_p", "event_p", "hub", "category", "event", "ok"),
                         MATCH_CASES)
def test_upstream_template_matching(hub_p, cat_p, event_p, hub, category, event, ok):
    template = UpstreamTemplate(url_template="http://x", hub_pattern=hub_p,
                                category_pattern=cat_p, event_pattern=event_p)
    assert template.matches(hub, category, event) is ok


def test_upstream_first_matching_template_wins():
    first = UpstreamTemplate(url_template="http://a", event_pattern="broadcast")
    second = UpstreamTemplate(url_template="http://b")
    assert find_template([first, second], "chat", "messages", "broadcast") is first
    assert find_template([first, second], "chat", "messages", "other") is second
    assert find_template([first], "chat", "messages", "other") is None


def test_upstream_url_placeholders_are_escaped():
    assert expand_url("http://h/{hub}/api/{category}/{event}?x={other}", "chat", "messages",
                      "a b/c") == "http://h/chat/api/messages/a%20b%2Fc?x={other}"


def test_upstream_headers_for_message():
    headers = build_upstream_headers(
        connection_id="0f9c97a2f0bf4706afe87a14e0797b11", hub="chat", category="messages",
        event="broadcast", keys=["7aab239577fd4f24bc919802fb629f5f",
                                 "a5f2815d0d0c4b00bd27e832432f91ab"],
        content_type="application/x-msgpack", user_id="u1",
        claims={"asrs.s.uid": "u1", "roles": ["a", "b"], "exp": 5},
        client_query="hub=chat&access_token=SECRET&id=x",
    )
    assert headers == {
        "X-ASRS-Connection-Id": "0f9c97a2f0bf4706afe87a14e0797b11",
        "X-ASRS-Hub": "chat",
        "X-ASRS-Category": "messages",
        "X-ASRS-Event": "broadcast",
        "X-ASRS-Signature":
            "sha256=7767effcb3946f3e1de039df4b986ef02c110b1469d02c0a06f41b3b727ab561,"
            "sha256=d4aefb65547a00a9881fa8ac8bd03d0faf77af9da5205d45c6e57cbda4377760",
        "Content-Type": "application/x-msgpack",
        "X-ASRS-User-Id": "u1",
        "X-ASRS-User-Claims": "asrs.s.uid: u1, roles: a, roles: b, exp: 5",
        "X-ASRS-Client-Query": "?hub=chat",  # no access_token, no connection token
    }


def test_upstream_headers_omit_empty_optional_values():
    headers = build_upstream_headers(connection_id="c", hub="h", category="connections",
                                     event="connected", keys=["k"], client_query="")
    assert not {"X-ASRS-User-Id", "X-ASRS-User-Claims", "X-ASRS-Client-Query"} & set(headers)


@pytest.mark.parametrize(("query", "expected"), [
    ("hub=chat&access_token=abc", "hub=chat"),
    ("hub=chat&id=SECRET&ID=x&identity=kept", "hub=chat&identity=kept"),
    ("Access_Token=abc&hub=chat&access%5Ftoken=x", "hub=chat"),
    ("", ""),
])
def test_upstream_strips_secrets_from_client_query(query, expected):
    assert strip_query_secrets(query) == expected


def test_upstream_claims_are_header_safe():
    assert format_claims({"n": "a\r\nb"}) == "n: a  b"


def test_upstream_bodies_per_category():
    assert json.loads(connected_body()) == {"type": 10}
    assert json.loads(disconnected_body(None)) == {"type": 11}
    assert json.loads(disconnected_body("gone")) == {"type": 11, "error": "gone"}


def test_upstream_invocation_body_drops_authorization_header():
    invocation = Invocation(target="t", arguments=[1], invocation_id="1",
                            headers={"Authorization": "Bearer x", "k": "v"})
    assert invocation_body(invocation, JSON) == (
        b'{"type":1,"headers":{"k":"v"},"invocationId":"1","target":"t","arguments":[1]}')
    assert invocation_body(invocation, MessagePackHubProtocol())[:2] == b"\x96\x01"


COMPLETION_CASES = [
    (200, b'{"type":3,"invocationId":"1","result":5}\x1e',
     b'{"type":3,"invocationId":"1","result":5}\x1e'),
    (200, b"", b'{"type":3,"invocationId":"1"}\x1e'),
    (204, b"", b'{"type":3,"invocationId":"1"}\x1e'),
    (201, b"", b'{"type":3,"invocationId":"1","error":"Invocation failed, status code 201"}\x1e'),
    (404, b"x", b'{"type":3,"invocationId":"1","error":"Invocation failed, status code 404"}\x1e'),
    (200, b"not framed", b'{"type":3,"invocationId":"1","error":"Invocation failed, error: the '
     b'upstream response is not a framed hub message."}\x1e'),
]


@pytest.mark.parametrize(("status", "body", "expected"), COMPLETION_CASES)
def test_upstream_response_becomes_completion(status, body, expected):
    assert completion_for_response("1", status, body, JSON) == expected
