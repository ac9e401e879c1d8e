"""Webhook pure parts: header checks, body parsing, InvocationContext and completions."""

from __future__ import annotations

import json

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.contracts import sign_connection_id
from emulator.contracts.protocols import PROTOCOLS
from emulator.errors import IndexingError, WebhookError
from emulator.functions.webhook import (
    UpstreamMessage,
    build_invocation_context,
    check_headers,
    check_trigger,
    content_protocol,
    encode_completion,
    parse_claims,
    parse_client_query,
    parse_connection_body,
    parse_invocation_body,
    verify_upstream_signature,
)

JSON, MSGPACK = PROTOCOLS["json"], PROTOCOLS["messagepack"]


@pytest.mark.parametrize(("value", "expected"), [
    ("application/json", JSON), ("application/json; charset=utf-8", JSON),
    ("Application/X-MsgPack", MSGPACK),
])
def test_webhook_content_protocol(value, expected) -> None:
    assert content_protocol(value) == expected


@pytest.mark.parametrize("value", [None, "", "text/plain"])
def test_webhook_content_protocol_refuses_with_415(value) -> None:
    with pytest.raises(WebhookError) as caught:
        content_protocol(value)
    assert caught.value.status_hint == 415


def test_webhook_check_headers_key_is_lower_case() -> None:
    assert check_headers({"X-ASRS-Hub": "Chat", "X-ASRS-Category": "Messages",
                          "X-ASRS-Event": "Send"}) == ("chat", "messages", "send")


def test_webhook_check_headers_missing_is_400() -> None:
    with pytest.raises(WebhookError, match="X-ASRS-Event") as caught:
        check_headers({"X-ASRS-Hub": "chat", "X-ASRS-Category": "messages"})
    assert caught.value.status_hint == 400


def test_webhook_signature_any_key_any_value() -> None:
    header = sign_connection_id("c", ["k1"]) + "," + sign_connection_id("c", ["k2"]).upper()
    verify_upstream_signature({"X-ASRS-Connection-Id": "c", "X-ASRS-Signature": header}, ["k2"])
    with pytest.raises(WebhookError) as caught:
        verify_upstream_signature({"X-ASRS-Connection-Id": "c", "X-ASRS-Signature": header},
                                  ["k3"])
    assert caught.value.status_hint == 401
    verify_upstream_signature({}, [])  # no access key: validation is off


@pytest.mark.parametrize(("category", "event"), [("other", "x"), ("connections", "message")])
def test_webhook_check_trigger_refuses(category, event) -> None:
    with pytest.raises(IndexingError, match="Function 'f'"):
        check_trigger("f", "chat", category, event)


def test_webhook_parse_json_invocation_with_separator() -> None:
    body = b'{"type":1,"invocationId":"1","target":"send","arguments":["a"]}\x1e'
    assert parse_invocation_body(body, JSON) == UpstreamMessage(
        type=1, invocation_id="1", target="send", arguments=["a"])


def test_webhook_parse_close_message_any_key_case() -> None:
    assert parse_connection_body(b'{"Type":11,"Error":"gone"}').error == "gone"
    assert parse_connection_body(b"not json") == UpstreamMessage(type=None)
    assert parse_connection_body(b"") == UpstreamMessage(type=None)


@pytest.mark.parametrize("framed", [False, True])
def test_webhook_parse_msgpack_invocation(framed) -> None:
    packed = msgpack.packb([1, {}, None, "send", [1, "b"]])
    body = bytes([len(packed)]) + packed if framed else packed
    message = parse_invocation_body(body, MSGPACK)
    assert (message.type, message.invocation_id, message.arguments) == (1, None, [1, "b"])


def test_webhook_parse_msgpack_binary_argument_becomes_base64() -> None:
    body = msgpack.packb([1, {}, "1", "send", [b"\x00\x01"]], use_bin_type=True)
    assert parse_invocation_body(body, MSGPACK).arguments == ["AAE="]


@given(st.binary(max_size=64), st.sampled_from([JSON, MSGPACK]))
def test_webhook_parse_any_bytes_parses_or_raises_webhook_error(body, protocol) -> None:
    try:
        parse_invocation_body(body, protocol)
    except WebhookError as exc:
        assert exc.status_hint == 400


@pytest.mark.parametrize(("body", "protocol"), [
    (b"{nope", JSON), (b"[1]", JSON), (b'{"type":1,"arguments":5}', JSON),
    (b'{"type":6}', JSON), (b"\x05\x01", MSGPACK), (b"\x80", MSGPACK),
    (b"\x01\xc1", MSGPACK),
])
def test_webhook_parse_refuses_malformed_bodies_with_400(body, protocol) -> None:
    with pytest.raises(WebhookError) as caught:
        parse_invocation_body(body, protocol)
    assert caught.value.status_hint == 400


def test_webhook_query_and_claims_parsing() -> None:
    assert parse_client_query("?a=1&b=&a=2") == {"a": "1,2", "b": ""}
    assert parse_client_query(None) is None
    assert parse_claims("role: admin, role: user, name: bob") == {"role": "admin", "name": "bob"}


def test_webhook_invocation_context_shape() -> None:
    headers = [("X-ASRS-Hub", "chat"), ("X-ASRS-Category", "messages"), ("X-ASRS-Event", "send"),
               ("X-ASRS-Connection-Id", "c1"), ("Content-Type", "application/json"),
               ("X-Multi", "a"), ("x-multi", "b")]
    context = json.loads(build_invocation_context(
        headers, UpstreamMessage(type=1, target="send", arguments=[1])))
    assert context == {
        "Arguments": [1], "Error": None, "Category": "messages", "Event": "send", "Hub": "chat",
        "ConnectionId": "c1", "UserId": None,
        "Headers": {"X-ASRS-Hub": "chat", "X-ASRS-Category": "messages", "X-ASRS-Event": "send",
                    "X-ASRS-Connection-Id": "c1", "X-Multi": "a,b"},
        "Query": None, "Claims": None,
    }


def test_webhook_completion_encoding() -> None:
    assert encode_completion("1", JSON, result={"a": 1}) == (
        b'{"type":3,"invocationId":"1","result":{"a":1}}\x1e')
    assert encode_completion("1", JSON, result=None) == (
        b'{"type":3,"invocationId":"1","result":null}\x1e')
    assert encode_completion("1", JSON, error="bad") == (
        b'{"type":3,"invocationId":"1","error":"bad"}\x1e')
    framed = encode_completion("2", MSGPACK, error="bad")
    assert msgpack.unpackb(framed[1:]) == [3, {}, "2", 1, "bad"]
    assert framed[0] == len(framed) - 1
