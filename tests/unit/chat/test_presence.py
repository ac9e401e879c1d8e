"""Presence entity state: set semantics, tombstones, one opener and one departure per session."""

from __future__ import annotations

import pytest

from chat import presence
from chat.presence import apply_operation, empty_presence


def run(*operations: tuple[str, dict[str, str | None]]) -> dict:
    state = None
    for name, data in operations:
        state = apply_operation(state, name, data)
    return state or empty_presence()


def connect(cid: str, user: str | None = "ada") -> tuple[str, dict[str, str | None]]:
    return ("connect", {"connectionId": cid, "user": user})


def disconnect(cid: str) -> tuple[str, dict[str, str | None]]:
    return ("disconnect", {"connectionId": cid})


def test_presence_connect_is_idempotent() -> None:
    state = run(connect("c1"), connect("c1"))
    assert presence.connections_of(state, "ada") == ["c1"]
    assert presence.online_users(state) == {"users": [{"user": "ada", "connections": 1}],
                                            "version": 1}


def test_presence_counts_connections_per_user_sorted() -> None:
    state = run(connect("c1", "bob"), connect("c2", "ada"), connect("c3", "bob"))
    assert presence.online_users(state)["users"] == [
        {"user": "ada", "connections": 1},
        {"user": "bob", "connections": 2},
    ]


def test_presence_first_connection_is_the_opener() -> None:
    state = run(connect("c1"), connect("c2"))
    assert presence.joined_event(state, "ada", "c1") == {"user": "ada", "version": 1}
    assert presence.joined_event(state, "ada", "c2") is None
    assert presence.joined_event(state, None, "c1") is None


def test_presence_last_connection_closing_is_the_departure() -> None:
    state = run(connect("c1"), connect("c2"), disconnect("c1"))
    assert presence.is_online(state, "ada")
    assert presence.left_event(state, "ada", "c1") is None
    state = apply_operation(state, "disconnect", {"connectionId": "c2"})
    assert not presence.is_online(state, "ada")
    assert presence.left_event(state, "ada", "c2") == {"user": "ada", "version": 2}
    assert presence.left_event(state, "ada", "c1") is None


def test_presence_disconnect_twice_changes_nothing_more() -> None:
    once = run(connect("c1"), disconnect("c1"))
    twice = apply_operation(once, "disconnect", {"connectionId": "c1"})
    assert twice == once


def test_presence_late_connect_after_disconnect_is_ignored() -> None:
    """Signals may arrive out of order: a closed connection never comes back."""
    state = run(disconnect("c1"), connect("c1"))
    assert not presence.is_connected(state, "c1")
    assert not presence.is_online(state, "ada")
    assert presence.connect_applied(state, "c1")


def test_presence_rejoin_gets_a_newer_version_than_the_leave() -> None:
    state = run(connect("c1"), disconnect("c1"), connect("c2"))
    left = presence.left_event(state, "ada", "c1")
    joined = presence.joined_event(state, "ada", "c2")
    assert left and joined and joined["version"] > left["version"]


def test_presence_tombstones_are_bounded() -> None:
    state = None
    for index in range(presence.MAX_TOMBSTONES + 5):
        state = apply_operation(state, "disconnect", {"connectionId": f"c{index}"})
    assert state is not None
    assert len(state["closed"]) == presence.MAX_TOMBSTONES
    assert "c0" not in state["closed"]


def test_presence_group_membership_by_connection_and_by_user() -> None:
    state = run(
        connect("c1", "ada"), connect("c2", "bob"),
        ("joinGroup", {"connectionId": "c1", "group": "g"}),
        ("joinUser", {"user": "bob", "group": "h"}),
    )
    assert presence.is_member(state, "g", "c1", "ada")
    assert not presence.is_member(state, "g", "c2", "bob")
    assert presence.is_member(state, "h", "c2", "bob")
    assert presence.is_member(state, "h", "c9", "bob"), "user membership covers new connections"
    assert not presence.is_member(state, "nope", "c1", "ada")
    assert presence.group_join_applied(state, "g", "c1")
    assert presence.user_group_join_applied(state, "h", "bob")


def test_presence_leaving_and_disconnecting_drop_memberships() -> None:
    state = run(
        connect("c1"), ("joinGroup", {"connectionId": "c1", "group": "g"}),
        ("joinGroup", {"connectionId": "c1", "group": "g"}),
        ("joinUser", {"user": "ada", "group": "h"}),
    )
    left = apply_operation(state, "leaveGroup", {"connectionId": "c1", "group": "g"})
    assert presence.group_leave_applied(left, "g", "c1")
    assert "g" not in left["groups"]
    gone = apply_operation(state, "disconnect", {"connectionId": "c1"})
    assert not presence.is_member(gone, "g", "c1", None)
    unjoined = apply_operation(state, "leaveUser", {"user": "ada", "group": "h"})
    assert presence.user_group_leave_applied(unjoined, "h", "ada")
    assert not presence.user_group_leave_applied(state, "h", "ada")


def test_presence_closed_connection_cannot_join_a_group() -> None:
    join = ("joinGroup", {"connectionId": "c1", "group": "g"})
    state = run(connect("c1"), disconnect("c1"), join)
    assert state["groups"] == {}
    assert presence.group_join_applied(state, "g", "c1"), "nothing to wait for"


def test_presence_anonymous_connections_are_not_users() -> None:
    state = run(connect("c1", None))
    assert presence.is_connected(state, "c1")
    assert presence.user_of(state, "c1") is None
    assert presence.online_users(state)["users"] == []
    state = apply_operation(state, "disconnect", {"connectionId": "c1"})
    assert presence.left_event(state, None, "c1") is None


@pytest.mark.parametrize(
    ("name", "data"),
    [("explode", {"connectionId": "c"}), ("connect", {}), ("joinGroup", {"connectionId": "c"}),
     ("connect", "c1")],
)
def test_presence_refuses_unknown_operations_and_bad_inputs(name: str, data: object) -> None:
    with pytest.raises(ValueError):
        apply_operation(None, name, data)


def test_presence_queries_accept_a_missing_entity() -> None:
    assert presence.online_users(None) == {"users": [], "version": 0}
    assert not presence.is_connected(None, "c")
    assert not presence.disconnect_applied(None, "c")
    assert not presence.connect_applied(None, "c")
