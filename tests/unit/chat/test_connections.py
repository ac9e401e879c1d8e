"""Connections opening and closing: what is recorded, what the connection and everyone get."""

from __future__ import annotations

import json

from chat import (
    History,
    Presence,
    Roster,
    Settings,
    after_connect,
    connected_outputs,
    disconnected_outputs,
    entity_key,
    plan_connect,
    plan_disconnect,
)
from chat.connections import TOO_MANY_CONNECTIONS
from chat.presence import MAX_CONNECTIONS
from chat.roster import Entry
from tests.unit.chat.calls import call, shard

KEY = entity_key("u:ada")


def test_plan_connect_signals_and_confirms_until_the_connection_shows() -> None:
    plan = plan_connect(call("connected", cid="c1"))
    [signal] = plan.signals
    assert (signal.entity, signal.key, signal.operation) == ("Presence", KEY, "connect")
    assert signal.data == {"connectionId": "c1", "user": "ada"}
    assert plan.confirm is not None
    assert not plan.confirm.applied(None)
    assert plan.confirm.applied(shard("ada", "c1").to_json())
    assert plan.confirm.applied(Presence().remove(("c1",)).to_json()), "closed counts as shown"


def test_after_connect_prunes_dead_connections_and_hands_over_the_session() -> None:
    """Back after a crash: the ghost is pruned and the returning connection opens the session."""
    recorded = shard("ada", "ghost", "c1")
    after, signals, refused = after_connect(call("connected", cid="c1"), recorded,
                                            {"ghost": False})
    assert not refused and list(after.connections) == ["c1"] and after.opener == "c1"
    assert [(s.operation, s.data) for s in signals] == [("prune", {"connectionIds": ["ghost"]})]
    kept, signals, _ = after_connect(call("connected", cid="c1"), recorded, {})
    assert list(kept.connections) == ["ghost", "c1"] and signals == (), "unknown: kept"


def test_after_connect_refuses_one_connection_too_many() -> None:
    full = shard("ada", *[f"x{n}" for n in range(MAX_CONNECTIONS)], "c1")
    after, signals, refused = after_connect(call("connected", cid="c1"), full, {})
    assert refused and not after.has("c1")
    assert [s.operation for s in signals] == ["disconnect"]
    closed = Presence().remove(("c1",))
    assert after_connect(call("connected", cid="c1"), closed, {})[2]
    assert "50 connections" in TOO_MANY_CONNECTIONS


def test_connected_outputs_give_the_connection_its_list_history_and_own_notice() -> None:
    after = shard("ada", "c1").join_user_group("regulars")
    history = History.from_json({"messages": [{"id": "m", "time": "1", "text": "hi"}]})
    roster = Roster().update("k-bob", Entry(user="bob", connections=1, version=3))
    direct, news = connected_outputs(call("connected", cid="c1", headers={"authorization": "x"}),
                                     Settings(), after, history, roster)
    items = [json.loads(json.dumps(item, default=str)) for item in direct.items]
    assert [(i.get("action"), i.get("target"), i.get("connectionId"), i.get("userId"))
            for i in items] == [("add", None, None, "ada"), (None, "onlineUsers", "c1", None),
                                (None, "history", "c1", None), (None, "newConnection", "c1", None)]
    assert json.loads(direct.items[1]["arguments"][0]) == {
        "users": [["bob", 1, 3], ["ada", 1, 1]], "count": 2}
    assert json.loads(direct.items[2]["arguments"][0]) == [{"id": "m", "time": "1", "text": "hi"}]
    assert direct.items[3]["arguments"] == [{"connectionId": "c1", "authentication": True,
                                            "ConnectionId": "c1", "Authentication": True}]
    assert [e["target"] for e in news.events] == ["userJoined"]
    assert news.entries == ((KEY, Entry(user="ada", connections=1, version=1)),)


def test_connected_outputs_of_a_second_tab_or_a_registration() -> None:
    after = shard("ada", "c1", "c2")
    direct, news = connected_outputs(call("connected", cid="c2"), Settings(), after, History(),
                                     Roster(), announce=False)
    assert "newConnection" not in [item.get("target") for item in direct.items]
    assert news.events[0] == {"target": "userUpdated",
                              "arguments": [{"user": "ada", "connections": 2, "version": 2}]}


def test_plan_disconnect_tells_the_groups_the_connection_joined() -> None:
    recorded = shard("ada", "c1").join_group("c1", "team")
    plan, predicted = plan_disconnect(call("disconnected", cid="c1"), recorded)
    assert [(s.entity, s.operation) for s in plan.signals] == [("Presence", "disconnect"),
                                                              ("Group", "remove")]
    assert plan.confirm is not None and plan.confirm.applied(predicted.to_json())
    assert not predicted.online


def test_disconnected_outputs_user_left_only_for_the_departure() -> None:
    gone = shard("ada", "c1").remove(("c1",))
    news = disconnected_outputs(call("disconnected", cid="c1"), gone)
    assert news.events == ({"target": "userLeft", "arguments": [{"user": "ada", "version": 2}]},)
    other = disconnected_outputs(call("disconnected", cid="c-old"), gone)
    assert other.events == ()
    fewer = disconnected_outputs(call("disconnected", cid="c1"),
                                 shard("ada", "c1", "c2").remove(("c1",)))
    assert fewer.events[0]["target"] == "userUpdated"
