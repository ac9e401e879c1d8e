"""One user's Presence shard: set semantics under repeated and reordered signals."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chat import Presence
from chat.presence import MAX_GROUPS, MAX_RECORDED, MAX_TOMBSTONES, OPERATIONS, apply_operation
from tests.unit.chat.calls import shard


def test_presence_connect_opens_a_session_and_counts_versions() -> None:
    state = shard("ada", "c1")
    assert (state.user, state.opener, state.version, state.online) == ("ada", "c1", 1, True)
    state = state.connect("c2", "ada")
    assert list(state.connections) == ["c1", "c2"] and state.opener == "c1"
    assert state.version == 2


def test_presence_last_disconnect_ends_the_session() -> None:
    state = shard("ada", "c1", "c2").remove(("c1",))
    assert state.online and state.departed is None and state.opener == "c2"
    state = state.remove(("c2",))
    assert not state.online and state.departed == "c2" and state.version == 4


def test_presence_closed_connection_cannot_come_back() -> None:
    state = shard("ada", "c1").remove(("c1",))
    assert state.connect("c1", "ada") == state
    late = Presence().remove(("c9",)).connect("c9", "ada")  # disconnect overtook connect
    assert not late.online and late.is_closed("c9")


def test_presence_tombstones_and_records_are_bounded() -> None:
    state = Presence()
    for n in range(MAX_TOMBSTONES + 10):
        state = state.connect(f"c{n}", "ada").remove((f"c{n}",))
    assert len(state.closed) == MAX_TOMBSTONES
    full = shard("ada", *[f"x{n}" for n in range(MAX_RECORDED)])
    refused = full.connect("one-more", "ada")
    assert len(refused.connections) == MAX_RECORDED and refused.is_closed("one-more")


def test_presence_groups_per_connection_and_per_user_are_bounded() -> None:
    state = shard("ada", "c1")
    for n in range(MAX_GROUPS):
        state = state.join_group("c1", f"g{n}") if n % 2 else state.join_user_group(f"g{n}")
    assert len(state.groups()) == MAX_GROUPS and not state.can_join("one-more")
    assert state.join_group("c1", "one-more") == state
    assert state.join_user_group("one-more") == state
    assert state.can_join("g1"), "a group one is in already"
    fewer = state.leave_group("c1", "g1").leave_user_group("g0")
    assert len(fewer.groups()) == MAX_GROUPS - 2


def test_presence_group_of_an_unknown_connection_is_not_recorded() -> None:
    assert shard("ada", "c1").join_group("c2", "g") == shard("ada", "c1")


def test_presence_json_round_trip_and_malformed_state() -> None:
    state = shard("ada", "c1", "c2").join_group("c1", "g").join_user_group("h").remove(("c2",))
    assert Presence.from_json(state.to_json()) == state
    assert Presence.from_json(None) == Presence() == Presence.from_json("junk")
    odd = Presence.from_json({"connections": {"c1": ["g", 5]}, "version": "x", "closed": 3})
    assert odd.connections == {"c1": ("g",)} and odd.version == 0 and odd.closed == ()


def test_presence_operations_are_a_table_by_name() -> None:
    assert set(OPERATIONS) == {"connect", "disconnect", "prune", "joinGroup", "leaveGroup",
                               "joinUser", "leaveUser"}
    state = apply_operation(None, "connect", {"connectionId": "c1", "user": "ada"})
    state = apply_operation(state, "joinGroup", {"connectionId": "c1", "group": "g"})
    state = apply_operation(state, "prune", {"connectionIds": ["c1"]})
    assert state["connections"] == {} and state["closed"] == ["c1"]


@pytest.mark.parametrize(("name", "data"), [
    ("explode", {}), ("connect", {}), ("connect", "c1"), ("prune", {"connectionIds": "c1"}),
    ("joinGroup", {"connectionId": "c1"}), ("connect", {"connectionId": ""}),
])
def test_presence_apply_operation_refuses_bad_operations(name: str, data: Any) -> None:
    with pytest.raises(ValueError):
        apply_operation(None, name, data)


_ids = st.sampled_from(["c1", "c2", "c3"])
_operations = st.one_of(
    st.tuples(st.just("connect"), st.fixed_dictionaries({"connectionId": _ids,
                                                         "user": st.just("ada")})),
    st.tuples(st.just("disconnect"), st.fixed_dictionaries({"connectionId": _ids})),
    st.tuples(st.just("prune"), st.fixed_dictionaries({"connectionIds": st.lists(_ids)})),
    st.tuples(st.sampled_from(["joinGroup", "leaveGroup"]), st.fixed_dictionaries(
        {"connectionId": _ids, "group": st.sampled_from(["g", "h"])})),
    st.tuples(st.sampled_from(["joinUser", "leaveUser"]),
              st.fixed_dictionaries({"group": st.sampled_from(["g", "h"])})),
)


@given(st.lists(_operations, max_size=14))
def test_presence_signals_delivered_twice_change_nothing_more(
    operations: list[tuple[str, dict[str, Any]]],
) -> None:
    """At-least-once delivery: every operation applied twice gives the same state."""
    once: Any = None
    twice: Any = None
    for name, data in operations:
        once = apply_operation(once, name, data)
        twice = apply_operation(apply_operation(twice, name, data), name, data)
    assert once == twice
    state = Presence.from_json(once)
    assert not set(state.connections) & set(state.closed), "a closed connection came back"
    assert state.online == (state.opener in state.connections)
