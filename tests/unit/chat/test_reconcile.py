"""One reconcile pass: presence converges on the connections the service has."""

from __future__ import annotations

from chat import Presence, Roster, connections_to_check, plan_reconcile
from chat.news import BATCH_FROM, entry_of
from tests.unit.chat.calls import shard


def roster_of(**shards: Presence) -> Roster:
    return Roster().update_many([(key, entry_of(state)) for key, state in shards.items()])


def test_reconcile_prunes_ghosts_and_says_user_left_once() -> None:
    ghost = shard("ada", "c1")
    decision = plan_reconcile(roster_of(a=ghost), {"a": ghost}, {"c1": False})
    assert [(s.entity, s.operation) for s in decision.signals] == [("Presence", "prune"),
                                                                  ("Roster", "update")]
    assert decision.signals[0].data == {"connectionIds": ["c1"]}
    assert decision.items == ({"target": "userLeft", "arguments": [{"user": "ada",
                                                                    "version": 2}]},)


def test_reconcile_of_some_dead_tabs_updates_the_count() -> None:
    two = shard("bob", "c1", "c2")
    decision = plan_reconcile(roster_of(b=two), {"b": two}, {"c1": True, "c2": False})
    assert decision.items[0]["target"] == "userUpdated"
    assert decision.items[0]["arguments"][0]["connections"] == 1


def test_reconcile_of_many_changes_batches_them() -> None:
    ghosts = {f"k{n}": shard(f"u{n}", f"c{n}") for n in range(BATCH_FROM)}
    decision = plan_reconcile(roster_of(**ghosts), ghosts, {f"c{n}": False
                                                            for n in range(BATCH_FROM)})
    assert [item["target"] for item in decision.items] == ["usersChanged"]
    assert len(decision.items[0]["arguments"][0]) == BATCH_FROM


def test_reconcile_repairs_a_roster_that_missed_an_update() -> None:
    now = shard("ada", "c1", "c2")
    stale = roster_of(a=shard("ada", "c1"))
    decision = plan_reconcile(stale, {"a": now}, {"c1": True, "c2": True})
    assert decision.items == ()
    assert [s.operation for s in decision.signals] == ["update"]
    assert decision.signals[0].data["entries"][0]["connections"] == 2


def test_reconcile_leaves_alone_what_it_could_not_read_or_ask() -> None:
    ada = shard("ada", "c1")
    assert plan_reconcile(roster_of(a=ada), {}, {}).signals == ()
    assert plan_reconcile(roster_of(a=ada), {"a": ada}, {}).signals == ()
    assert connections_to_check({"a": ada, "b": shard("bob", "b1", "b2")}) == ["c1", "b1", "b2"]


def test_reconcile_repeats_the_rosters_fresh_changes_to_everyone_once() -> None:
    """A list read before a change reached the roster missed it: the pass repeats it."""
    gone = shard("ada", "c1").remove(("c1",))
    roster = roster_of(a=gone, b=shard("bob", "b1"), n=shard(None, "n1"))
    plan = plan_reconcile(roster, {}, {})
    assert plan.repeats == ({"target": "usersChanged", "arguments": [[
        {"user": "ada", "connections": 0, "version": gone.version},
        {"user": "bob", "connections": 1, "version": 1}]]},)
    [repeated] = plan.repeated
    assert (repeated.entity, repeated.operation) == ("Roster", "repeated")
    after = roster.repeated(repeated.data["versions"])
    assert after.fresh == {}, "anonymous changes are marked too, though never named"
    assert plan_reconcile(after, {}, {}).repeats == ()
    assert plan_reconcile(after, {}, {}).repeated == ()
