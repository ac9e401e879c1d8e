"""Settings loading, negotiate answers and REST request parsing."""

from __future__ import annotations

import json

import msgpack
import pytest

from emulator.contracts.json_hub import JsonHubProtocol
from emulator.contracts.messages import Invocation
from emulator.contracts.msgpack_hub import MessagePackHubProtocol
from emulator.errors import BadRequest, UnsupportedMediaType
from emulator.signalr import ConfigError, ServiceConfig, UpstreamTemplate, load_settings
from emulator.signalr.protocol.negotiate import (
    build_negotiate_response,
    lowered_query,
    negotiate_version,
)
from emulator.signalr.protocol.payload import (
    check_group,
    check_hub,
    parse_payload,
    parse_payload_message,
    parse_ttl,
)


def test_config_loads_microsoft_settings_shape(tmp_path):
    (tmp_path / "settings.json").write_text(json.dumps({"upstreamSettings": {"templates": [
        {"UrlTemplate": "http://localhost:7071/runtime/webhooks/signalr", "EventPattern": "*",
         "HubPattern": "chat", "CategoryPattern": None},
        {"urlTemplate": "http://h/{event}"},
    ]}}))
    assert load_settings(tmp_path) == (
        UpstreamTemplate(url_template="http://localhost:7071/runtime/webhooks/signalr",
                         hub_pattern="chat", category_pattern=None, event_pattern="*"),
        UpstreamTemplate(url_template="http://h/{event}"),
    )


@pytest.mark.parametrize(("content", "message"), [
    ("{", "not valid JSON"),
    ('{"UpstreamSettings": {"Templates": [{}]}}', "UrlTemplate is required"),
    ('{"UpstreamSettings": {"Templates": [{"UrlTemplate": "/x"}]}}', "absolute"),
    ('{"UpstreamSettings": {"Templates": [{"UrlTemplate": "http://x", "HubPattern": 1}]}}',
     "HubPattern"),
    ("[]", "top level"),
])
def test_config_refuses_bad_settings_naming_the_problem(tmp_path, content, message):
    path = tmp_path / "settings.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_settings(path)


def test_config_refuses_missing_file_and_empty_keys(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "nope.json")
    with pytest.raises(ConfigError):
        ServiceConfig(access_keys=())


@pytest.mark.parametrize(("query", "version"), [
    ([], 0), ([("negotiateVersion", "1")], 1), ([("NEGOTIATEVERSION", "5")], 1),
])
def test_negotiate_version_from_query(query, version):
    assert negotiate_version(lowered_query(query)) == version


@pytest.mark.parametrize("query", [[("negotiateVersion", "x")],
                                   [("negotiateVersion", "1"), ("NegotiateVersion", "1")]])
def test_negotiate_version_refuses_bad_query(query):
    with pytest.raises(BadRequest):
        negotiate_version(lowered_query(query))


def test_negotiate_response_v0_and_v1():
    v1 = build_negotiate_response(connection_id="c", connection_token="t", version=1,
                                  transports=("WebSockets", "LongPolling"))
    assert v1 == {"connectionId": "c", "connectionToken": "t", "negotiateVersion": 1,
                  "availableTransports": [
                      {"transport": "WebSockets", "transferFormats": ["Text", "Binary"]},
                      {"transport": "LongPolling", "transferFormats": ["Text", "Binary"]}]}
    v0 = build_negotiate_response(connection_id="c", connection_token="c", version=0)
    assert "connectionToken" not in v0 and v0["negotiateVersion"] == 0


@pytest.mark.parametrize(("body", "content_type", "expected"), [
    (b'{"target":"t","arguments":[1]}', "application/json", Invocation(target="t",
                                                                        arguments=[1])),
    (b'{"Target":"t","Arguments":[]}', "application/json; charset=utf-8",
     Invocation(target="t", arguments=[])),
    (b'{"TARGET":"t"}', "", Invocation(target="t", arguments=[])),
])
def test_payload_message_parsed_case_insensitively(body, content_type, expected):
    assert parse_payload_message(body, content_type) == expected


@pytest.mark.parametrize(("body", "content_type", "error"), [
    (b"", "application/json", BadRequest), (b"{", "application/json", BadRequest),
    (b"[]", "application/json", BadRequest), (b'{"target":""}', "application/json", BadRequest),
    (b'{"target":"t","arguments":{}}', "application/json", BadRequest),
    (b'{"target":"t"}', "text/plain", UnsupportedMediaType),
])
def test_payload_message_refused(body, content_type, error):
    with pytest.raises(error):
        parse_payload_message(body, content_type)


def test_payload_names():
    assert check_hub("Chat") == "chat"
    assert check_hub("Chat", "App") == "app_chat"
    for bad in ("1chat", "", "a" * 129, "a/b"):
        with pytest.raises(BadRequest):
            check_hub(bad)
    with pytest.raises(BadRequest):
        check_group("   ")
    assert parse_ttl("10") == 10 and parse_ttl(None) is None
    with pytest.raises(BadRequest):
        parse_ttl("-1")


def test_payload_msgpack_body_is_read_like_json():
    body = msgpack.packb({"Target": "t", "Arguments": [1, b"\x00"]})
    assert parse_payload(body, "application/x-msgpack") == (
        Invocation(target="t", arguments=[1, b"\x00"]), {})


def test_payload_preencoded_body_keeps_each_framing():
    json_frame = JsonHubProtocol().encode(Invocation(target="t", arguments=["x"]))
    msgpack_frame = MessagePackHubProtocol().encode(Invocation(target="t", arguments=["x"]))
    body = msgpack.packb({"json": json_frame, "messagepack": msgpack_frame})
    message, encoded = parse_payload(body, "application/octet-stream")
    assert message == Invocation(target="t", arguments=["x"])
    assert encoded == {"json": json_frame, "messagepack": msgpack_frame}


@pytest.mark.parametrize("obj", [
    [], {}, {"json": "text"}, {"json": b"not framed"},
    {"json": JsonHubProtocol().encode(Invocation(target="t")) * 2},
])
def test_payload_preencoded_body_refused_when_malformed(obj):
    with pytest.raises(BadRequest):
        parse_payload(msgpack.packb(obj), "application/octet-stream")
