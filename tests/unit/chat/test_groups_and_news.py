"""Group members, and presence news batched into one flush."""

from __future__ import annotations

import json

import pytest

from chat import Members, batch_news
from chat.groups import MAX_MEMBERS, apply_operation
from chat.news import BATCH_FROM, News, presence_change
from chat.roster import Entry
from tests.unit.chat.calls import shard


def test_members_add_remove_idempotent_and_bounded() -> None:
    members = Members().add("c1").add("c1").add("c2").remove("c1")
    assert members.connections == ("c2",) and members.has("c2") and not members.has("c1")
    full = Members()
    for n in range(MAX_MEMBERS + 3):
        full = full.add(f"c{n}")
    assert len(full.connections) == MAX_MEMBERS and not full.has("c0")
    state = apply_operation(None, "add", {"connectionId": "c1"})
    assert Members.from_json(state).has("c1") and Members.from_json("x") == Members()
    with pytest.raises(ValueError):
        apply_operation(state, "explode", {})


def test_presence_change_says_joined_updated_or_left() -> None:
    two = shard("ada", "c1", "c2")
    assert presence_change("ada", False, two, False) == {
        "target": "userJoined", "arguments": [{"user": "ada", "connections": 2, "version": 2}]}
    updated = presence_change("ada", True, two, False)
    assert updated is not None and updated["target"] == "userUpdated"
    gone = two.remove(("c1", "c2"))
    assert presence_change("ada", True, gone, True) == {
        "target": "userLeft", "arguments": [{"user": "ada", "version": 4}]}
    assert presence_change("ada", True, gone, False) is None, "someone else ended it"
    assert presence_change(None, False, two, False) is None, "anonymous: not announced"


def test_batch_news_of_one_change_sends_the_per_user_event() -> None:
    joined = News.of("k", shard("ada", "c1"), presence_change("ada", False, shard("ada", "c1"),
                                                              False))
    decision = batch_news([joined])
    assert [item["target"] for item in decision.items] == ["userJoined"]
    [signal] = decision.signals
    assert (signal.entity, signal.operation) == ("Roster", "update")
    assert signal.data == {"entries": [{"key": "k", "user": "ada", "connections": 1,
                                        "version": 1}]}


def test_batch_news_of_a_few_sends_each_per_user_event() -> None:
    ada, bob = shard("ada", "c1"), shard("bob", "c2")
    news = [News.of("a", ada, presence_change("ada", False, ada, False)),
            News.of("b", bob, presence_change("bob", False, bob, False))]
    decision = batch_news(news)
    assert [item["target"] for item in decision.items] == ["userJoined", "userJoined"]
    assert len(decision.signals) == 1, "one roster update"


def test_batch_news_of_many_sends_one_users_changed_and_the_newest_entries() -> None:
    users = [f"u{n}" for n in range(BATCH_FROM - 1)]
    news = [News.of(f"k-{u}", shard(u, f"c-{u}"), presence_change(u, False, shard(u, f"c-{u}"),
                                                                  False)) for u in users]
    gone = shard("u0", "c-u0").remove(("c-u0",))
    news.append(News.of("k-u0", gone, presence_change("u0", True, gone, True)))
    decision = batch_news(news)
    [item] = decision.items
    assert item["target"] == "usersChanged"
    [changes] = item["arguments"]
    assert changes[0] == {"user": "u0", "connections": 1, "version": 1}
    assert changes[-1] == {"user": "u0", "connections": 0, "version": 2}
    entries = decision.signals[0].data["entries"]
    assert {e["key"]: e["version"] for e in entries}["k-u0"] == 2, "the newest entry per key"
    assert len(entries) == BATCH_FROM - 1
    assert json.dumps(item)  # plain JSON


def test_batch_news_without_changes_sends_nothing() -> None:
    assert batch_news([]).items == () and batch_news([]).signals == ()
    quiet = batch_news([News(entries=(("k", Entry(user=None, connections=1, version=1)),))])
    assert quiet.items == () and len(quiet.signals) == 1
