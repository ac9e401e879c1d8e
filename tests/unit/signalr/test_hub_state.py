"""Hub bookkeeping: connections, users, groups and user-group memberships with ttl."""

from __future__ import annotations

from dataclasses import dataclass

from emulator.signalr.hub import HubState


@dataclass(frozen=True)
class Conn:
    connection_id: str
    user_id: str | None = None


def ids(connections) -> list[str]:
    return sorted(c.connection_id for c in connections)


def test_hub_state_hub_names_are_case_insensitive():
    state: HubState[Conn] = HubState()
    state.add_connection("Chat", Conn("a"), now=0)
    assert ids(state.connections("chat")) == ["a"]
    assert state.get_connection("CHAT", "a") == Conn("a")


def test_hub_state_excluded_and_users():
    state: HubState[Conn] = HubState()
    for conn in (Conn("a", "u"), Conn("b", "u"), Conn("c")):
        state.add_connection("h", conn, now=0)
    assert ids(state.connections("h", excluded=["b"])) == ["a", "c"]
    assert ids(state.user_connections("h", "u")) == ["a", "b"]
    assert state.has_user("h", "u") and not state.has_user("h", "v")
    state.remove_connection("h", "a")
    state.remove_connection("h", "b")
    assert not state.has_user("h", "u")
    assert state.remove_connection("h", "zz") is None


def test_hub_state_connection_groups():
    state: HubState[Conn] = HubState()
    state.add_connection("h", Conn("a"), now=0)
    assert not state.add_to_group("h", "missing", "g")
    assert state.add_to_group("h", "a", "g")
    assert state.has_group("h", "g")
    assert not state.remove_from_group("h", "a", "other")
    assert state.remove_from_group("h", "a", "g")
    assert not state.has_group("h", "g")
    state.add_to_group("h", "a", "g1")
    state.add_to_group("h", "a", "g2")
    state.remove_connection("h", "a")
    assert not state.has_group("h", "g1") and not state.has_group("h", "g2")


def test_hub_state_user_groups_apply_to_future_connections_until_ttl():
    state: HubState[Conn] = HubState()
    state.add_connection("h", Conn("a", "u"), now=0)
    state.add_user_to_group("h", "u", "g", now=0, ttl=10)
    assert ids(state.group_connections("h", "g")) == ["a"]
    state.add_connection("h", Conn("b", "u"), now=5)
    assert ids(state.group_connections("h", "g")) == ["a", "b"]
    state.add_connection("h", Conn("c", "u"), now=11)
    assert ids(state.group_connections("h", "g")) == ["a", "b"]
    assert state.user_in_group("h", "u", "g", now=11)  # current connections still members


def test_hub_state_user_group_ttl_zero_affects_only_current_connections():
    state: HubState[Conn] = HubState()
    state.add_connection("h", Conn("a", "u"), now=0)
    state.add_user_to_group("h", "u", "g", now=0, ttl=0)
    state.add_connection("h", Conn("b", "u"), now=1)
    assert ids(state.group_connections("h", "g")) == ["a"]


def test_hub_state_remove_user_from_groups():
    state: HubState[Conn] = HubState()
    state.add_user_to_group("h", "u", "g", now=0)
    state.add_user_to_group("h", "u", "k", now=0)
    state.add_connection("h", Conn("a", "u"), now=1)
    assert state.remove_user_from_group("h", "u", "g")
    assert not state.remove_user_from_group("h", "u", "g")
    assert ids(state.group_connections("h", "k")) == ["a"]
    state.remove_user_from_all_groups("h", "u")
    assert not state.has_group("h", "k")
    assert not state.user_in_group("h", "u", "k", now=2)


def test_hub_state_keeps_latest_100_user_groups_without_ttl():
    state: HubState[Conn] = HubState()
    for index in range(101):
        state.add_user_to_group("h", "u", f"g{index}", now=0)
    state.add_user_to_group("h", "u", "timed", now=0, ttl=60)
    assert not state.user_in_group("h", "u", "g0", now=1)
    assert state.user_in_group("h", "u", "g1", now=1)
    assert state.user_in_group("h", "u", "g100", now=1)
    assert state.user_in_group("h", "u", "timed", now=1)


def test_hub_state_group_members_pages_in_connection_id_order():
    state: HubState[Conn] = HubState()
    for cid in ("c", "a", "d", "b", "out"):
        state.add_connection("h", Conn(cid), now=0)
    for cid in ("c", "a", "d", "b"):
        state.add_to_group("h", cid, "g")
    first, more = state.group_members("h", "g", limit=3)
    assert ids(first) == ["a", "b", "c"] and [c.connection_id for c in first] == ["a", "b", "c"]
    assert more
    rest, more = state.group_members("h", "g", after="c", limit=3)
    assert ids(rest) == ["d"] and not more
    exact, more = state.group_members("h", "g", after="a", limit=3)
    assert ids(exact) == ["b", "c", "d"] and not more  # a full last page says nothing follows
    everything, more = state.group_members("h", "G")  # group names are case-sensitive
    assert everything == [] and not more
    assert state.group_members("other", "g") == ([], False)


def test_hub_state_group_members_follow_joins_and_leaves_behind_the_cursor():
    state: HubState[Conn] = HubState()
    for cid in ("a", "b", "c"):
        state.add_connection("h", Conn(cid, "u"), now=0)
        state.add_to_group("h", cid, "g")
    page, _ = state.group_members("h", "g", limit=2)
    state.remove_connection("h", "b")
    state.add_connection("h", Conn("aa", "u"), now=0)
    state.add_to_group("h", "aa", "g")
    rest, more = state.group_members("h", "g", after=page[-1].connection_id, limit=2)
    assert ids(rest) == ["c"] and not more  # "aa" joined behind the cursor: not repeated
