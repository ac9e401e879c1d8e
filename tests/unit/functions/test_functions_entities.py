"""The entity batch format, fed through the SDK's own handler, and the SQLite store."""

from __future__ import annotations

import json

import azure.durable_functions as df
import azure.functions as func
import pytest

from emulator.functions.durable import client_payload
from emulator.functions.entities import (
    EntityRecord,
    EntityStore,
    Operation,
    build_batch_request,
    check_entity_key,
    encode_signal_input,
    parse_batch_result,
)
from emulator.functions.errors import EntityError


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


def test_entities_store_round_trip_and_delete(tmp_path) -> None:
    store = EntityStore(tmp_path / "s" / "entities.sqlite3")
    assert store.load("Room", "k") == EntityRecord(False, None)
    store.save("Room", "k", EntityRecord(True, "[1]"))
    assert store.load("room", "k") == EntityRecord(True, "[1]")
    assert store.load("room", "K") == EntityRecord(False, None)
    store.close()
    reopened = EntityStore(tmp_path / "s" / "entities.sqlite3")
    assert reopened.load("ROOM", "k") == EntityRecord(True, "[1]")
    reopened.save("room", "k", EntityRecord(False, "null"))
    assert reopened.load("room", "k") == EntityRecord(False, None)
    reopened.close()


def test_entities_client_payload_is_accepted_by_the_sdk() -> None:
    client = df.DurableOrchestrationClient(client_payload("http://127.0.0.1:7071", "Hub"))
    bindings = client._orchestration_bindings
    assert bindings.task_hub_name == "Hub"
    assert bindings.rpc_base_url == (
        "http://127.0.0.1:7071/runtime/webhooks/durabletask/")
