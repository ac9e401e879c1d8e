"""The entity batch format and messages, fed through the SDK's own handler."""

from __future__ import annotations

import json

import azure.durable_functions as df
import azure.functions as func
import pytest

from emulator.errors import EntityError
from emulator.functions.durable import client_payload
from emulator.functions.entities import (
    Operation,
    build_batch_request,
    check_entity_key,
    decode_request,
    encode_request,
    encode_response,
    encode_signal_input,
    parse_batch_result,
    split_scheduler_id,
)


def room(context: df.DurableEntityContext) -> None:
    state = context.get_state(lambda: [])
    if context.operation_name == "append":
        state.append(context.get_input())
    elif context.operation_name == "explode":
        raise RuntimeError("nope")
    context.set_state(state)
    context.set_result(len(state))


HANDLE = df.Entity.create(room)


def run(request: str, size: int):
    return parse_batch_result(HANDLE(func.EntityContext(request)), size)


def test_entities_request_has_exactly_the_host_keys() -> None:
    request = json.loads(build_batch_request("Room", "Lobby", False, None,
                                             [Operation("append", '"x"')]))
    assert request == {"self": {"name": "room", "key": "Lobby"}, "exists": False, "state": None,
                       "batch": [{"name": "append", "input": '"x"', "isSignal": True}]}


def test_entities_sdk_round_trip_with_double_encoded_input() -> None:
    # What signal_entity(..., {"t": 1}) puts on the wire: a JSON string holding JSON text.
    wire = json.dumps(json.dumps({"t": 1})).encode()
    op = Operation("append", encode_signal_input(wire, "application/json"))
    result = run(build_batch_request("room", "k", False, None, [op, op]), 2)
    assert result.exists
    assert json.loads(result.state) == [{"t": 1}, {"t": 1}]
    assert [r.result for r in result.results] == ["1", "2"]
    again = run(build_batch_request("room", "k", True, result.state, [op]), 1)
    assert json.loads(again.state) == [{"t": 1}] * 3


def test_entities_failed_op_is_reported_and_batch_continues() -> None:
    ops = [Operation("explode"), Operation("append", json.dumps(json.dumps("a")))]
    result = run(build_batch_request("room", "k", False, None, ops), 2)
    assert [r.is_error for r in result.results] == [True, False]
    assert "nope" in result.results[0].result
    assert json.loads(result.state) == ["a"]


@pytest.mark.parametrize(("body", "content_type", "expected"), [
    (b"", "application/json", None),
    (b'"{\\"a\\": 1}"', "application/json", '"{\\"a\\": 1}"'),
    (b'{ "a" : "\xc3\xa9" }', "application/json; charset=utf-8", '{"a":"é"}'),
    (b"plain", "text/plain", '"plain"'),
    (b"5", "application/json", "5"),
    (b"5", "application/x-www-form-urlencoded", '"5"'),
    (b'{"a":1}', "text/json", '"{\\"a\\":1}"'),
])
def test_entities_encode_signal_input(body, content_type, expected) -> None:
    assert encode_signal_input(body, content_type) == expected


@pytest.mark.parametrize(("body", "content_type"), [(b"{bad", "application/json"),
                                                    (b"\xff", "text/plain")])
def test_entities_encode_signal_input_refuses(body, content_type) -> None:
    with pytest.raises(EntityError):
        encode_signal_input(body, content_type)


@pytest.mark.parametrize("key", ["a/b", "a\\b", "a#b", "a?b", "a\nb"])
def test_entities_bad_keys_are_400(key) -> None:
    with pytest.raises(EntityError) as caught:
        check_entity_key(key)
    assert caught.value.status_hint == 400


@pytest.mark.parametrize(("value", "message"), [
    ("not json", "not JSON"),
    ("{}", "did not return an entity state"),
    ('{"entityExists": true, "results": []}', "returned 0 results for 1"),
    ('{"entityExists": true, "results": [1]}', "not an object"),
])
def test_entities_parse_result_refuses(value, message) -> None:
    with pytest.raises(EntityError, match=message):
        parse_batch_result(value, 1)


def test_entities_request_round_trip() -> None:
    call = Operation("add", '"5"', is_signal=False, id="r1", parent="orch", parent_execution="e")
    assert decode_request(encode_request(call)) == call
    signal = Operation("add", None, id="r2")
    assert json.loads(encode_request(signal)) == {"op": "add", "signal": True, "id": "r2"}
    assert decode_request(encode_request(signal)) == signal


@pytest.mark.parametrize("text", ["nope", "[]", '{"op": 1}'])
def test_entities_decode_request_refuses(text) -> None:
    with pytest.raises(EntityError):
        decode_request(text)


def test_entities_response_and_scheduler_id() -> None:
    assert json.loads(encode_response("7", False)) == {"result": "7"}
    assert json.loads(encode_response('"x"', True)) == {"result": '"x"', "exceptionType": "Error"}
    assert split_scheduler_id("@tally@a@b") == ("tally", "a@b")
    with pytest.raises(EntityError):
        split_scheduler_id("tally")


def test_entities_call_result_reaches_the_sdk_like_the_extension_sends_it() -> None:
    ops = [Operation("append", json.dumps(json.dumps("a")), is_signal=False, id="r")]
    request = json.loads(build_batch_request("room", "k", False, None, ops))
    assert request["batch"] == [{"name": "append", "input": '"\\"a\\""', "isSignal": False}]


def test_entities_client_payload_is_accepted_by_the_sdk() -> None:
    client = df.DurableOrchestrationClient(client_payload("http://127.0.0.1:7071", "Hub"))
    bindings = client._orchestration_bindings
    assert bindings.task_hub_name == "Hub"
    assert bindings.rpc_base_url == (
        "http://127.0.0.1:7071/runtime/webhooks/durabletask/")
