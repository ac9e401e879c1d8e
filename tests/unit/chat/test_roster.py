"""Who is online: newest version per shard wins, bounded, listed compactly."""

from __future__ import annotations

import json

import pytest

from chat import Roster
from chat.roster import MAX_LEFT, SNAPSHOT_BYTES, Entry, apply_operation


def entry(user: str | None, connections: int, version: int) -> Entry:
    return Entry(user=user, connections=connections, version=version)


def users(roster: Roster, *also: tuple[str, Entry]) -> dict[str, tuple[int, int]]:
    snapshot = json.loads(roster.snapshot(*also))
    return {user: (connections, version) for user, connections, version in snapshot["users"]}


def test_roster_applies_only_newer_versions_in_any_order() -> None:
    updates = [("k-ada", entry("ada", 1, 1)), ("k-ada", entry("ada", 2, 2)),
               ("k-ada", entry("ada", 0, 3))]
    forwards = Roster().update_many(updates)
    backwards = Roster()
    for key, item in reversed(updates):
        backwards = backwards.update(key, item)
    assert forwards == backwards
    assert "k-ada" not in forwards.online and forwards.left == {"k-ada": 3}
    assert forwards.update("k-ada", entry("ada", 1, 2)) is forwards, "stale: ignored"
    assert forwards.update("k-ada", entry("ada", 1, 4)).online["k-ada"].connections == 1


def test_roster_snapshot_lists_named_users_with_newer_own_entry() -> None:
    roster = Roster().update_many([("a", entry("ada", 2, 5)), ("c", entry(None, 1, 1)),
                                   ("b", entry("bob", 1, 1))])
    assert users(roster) == {"ada": (2, 5), "bob": (1, 1)}
    assert users(roster, ("b", entry("bob", 2, 2)), ("z", entry("zoe", 1, 1))) == {
        "ada": (2, 5), "bob": (2, 2), "zoe": (1, 1)}
    assert users(roster, ("a", entry("ada", 1, 4))) == {"ada": (2, 5), "bob": (1, 1)}
    assert json.loads(roster.snapshot())["count"] == 2


def test_roster_snapshot_is_cut_at_its_byte_budget() -> None:
    many = Roster().update_many([(f"k{n}", entry("😀" * 60 + str(n), 1, 1)) for n in range(600)])
    snapshot = many.snapshot()
    assert len(snapshot) <= SNAPSHOT_BYTES + 64
    decoded = json.loads(snapshot)
    assert decoded["count"] == 600 and 0 < len(decoded["users"]) < 600


def test_roster_remembers_a_bounded_number_of_departures() -> None:
    roster = Roster().update_many([(f"k{n}", entry(f"u{n}", 0, 1)) for n in range(MAX_LEFT + 5)])
    assert len(roster.left) == MAX_LEFT and "k0" not in roster.left


def test_roster_operation_update_takes_a_list_and_round_trips() -> None:
    state = apply_operation(None, "update", {"entries": [
        {"key": "a", "user": "ada", "connections": 1, "version": 1}]})
    assert Roster.from_json(state).online["a"] == entry("ada", 1, 1)
    assert Roster.from_json(Roster.from_json(state).to_json()) == Roster.from_json(state)
    for bad in ({"entries": "x"}, {"entries": [{"key": "a", "connections": "1", "version": 1}]},
                {"entries": [{"connections": 1, "version": 1}]}):
        with pytest.raises(ValueError):
            apply_operation(state, "update", bad)
    with pytest.raises(ValueError):
        apply_operation(state, "forget", {})
    assert Roster.from_json({"online": {"a": {"version": "x"}}, "left": []}) == Roster()


def test_roster_keeps_the_changes_it_applied_until_they_are_repeated() -> None:
    roster = Roster().update_many([("a", entry("ada", 1, 1)), ("b", entry("bob", 1, 1))])
    roster = roster.update("a", entry("ada", 0, 2)).update("a", entry("ada", 1, 1))
    assert list(roster.fresh.items()) == [("b", entry("bob", 1, 1)), ("a", entry("ada", 0, 2))]
    assert roster.repeated({"a": 1}) is roster, "an older repeat leaves the newer change fresh"
    after = roster.repeated({"a": 2, "b": 1})
    assert after.fresh == {} and after.left == {"a": 2} and after.online == roster.online
    assert after.update("a", entry("ada", 1, 3)).fresh == {"a": entry("ada", 1, 3)}


def test_roster_keeps_a_bounded_number_of_fresh_changes() -> None:
    roster = Roster().update_many([(f"k{n}", entry(f"u{n}", 1, 1)) for n in range(MAX_LEFT + 5)])
    assert len(roster.fresh) == MAX_LEFT and "k0" not in roster.fresh


def test_roster_operation_repeated_round_trips_and_refuses_bad_versions() -> None:
    state = apply_operation(None, "update", {"entries": [
        {"key": "a", "user": "ada", "connections": 1, "version": 1}]})
    assert Roster.from_json(state).fresh == {"a": entry("ada", 1, 1)}
    assert Roster.from_json(apply_operation(state, "repeated", {"versions": {"a": 1}})).fresh == {}
    for bad in ({}, {"versions": ["a"]}, {"versions": {"a": "1"}}, {"versions": {"a": True}}):
        with pytest.raises(ValueError):
            apply_operation(state, "repeated", bad)
