"""Group changes: who may move whom, what is recorded, and the confirmation."""

from __future__ import annotations

import pytest

from chat import (
    Decision,
    InvalidGroupName,
    LimitReached,
    Members,
    NotAllowed,
    NotOnline,
    Presence,
    Settings,
    connection_group_change,
    entity_key,
    read_connection_group_change,
    read_user_group_change,
    user_group_change,
)
from chat.presence import MAX_GROUPS
from tests.unit.chat.calls import call, shard

ADMINS = Settings(admins=frozenset({"root"}))


def change(caller_user: str, connection_id: str, *, joining: bool = True,
           exists: bool = True, state: Presence | None = None) -> Decision:
    caller = call("joinGroup", user=caller_user, cid=f"c-{caller_user}")
    recorded = state or shard(caller_user, caller.connection_id)
    return connection_group_change(caller, ADMINS, recorded, connection_id, "team",
                                   joining=joining, target_exists=exists)


def test_read_group_changes_check_their_arguments() -> None:
    assert read_connection_group_change(call("joinGroup", "c1", " team ")) == ("c1", "team")
    assert read_user_group_change(call("joinUserToGroup", "ada", "team")) == ("ada", "team")
    with pytest.raises(InvalidGroupName):
        read_connection_group_change(call("joinGroup", "c1", "a|b"))


def test_join_own_connection_records_it_and_confirms_on_the_group() -> None:
    decision = change("ada", "c-ada")
    assert decision.items == ({"action": "add", "groupName": "team", "connectionId": "c-ada"},)
    assert [(s.entity, s.key, s.operation) for s in decision.signals] == [
        ("Group", entity_key("team"), "add"), ("Presence", entity_key("u:ada"), "joinGroup")]
    assert decision.confirm is not None
    assert decision.confirm.applied(Members(("c-ada",)).to_json())
    assert not decision.confirm.applied(None) and decision.result == "team"
    leave = change("ada", "c-ada", joining=False)
    assert leave.confirm is not None and leave.confirm.applied(None)
    assert leave.items[0]["action"] == "remove"


def test_other_connections_need_an_admin_and_must_exist() -> None:
    with pytest.raises(NotAllowed, match="only add your own connection"):
        change("ada", "c-bob")
    with pytest.raises(NotOnline, match="c-bob is not connected"):
        change("root", "c-bob", exists=False)
    moved = change("root", "c-bob")
    assert [s.entity for s in moved.signals] == ["Group"], "not the admin's own shard"


def test_joining_is_refused_when_the_user_is_in_the_most_groups() -> None:
    full = shard("ada", "c-ada")
    for n in range(MAX_GROUPS):
        full = full.join_user_group(f"g{n}")
    with pytest.raises(LimitReached, match="at most 100 groups"):
        change("ada", "c-ada", state=full)
    assert change("ada", "c-ada", joining=False, state=full).result == "team"


def test_user_group_change_for_oneself_or_by_an_admin() -> None:
    decision = user_group_change(call("joinUserToGroup"), ADMINS, shard("ada"), "ada", "team",
                                 joining=True)
    assert decision.items == ({"action": "add", "groupName": "team", "userId": "ada"},)
    [signal] = decision.signals
    assert (signal.key, signal.operation, signal.data) == (entity_key("u:ada"), "joinUser",
                                                           {"group": "team"})
    assert decision.confirm is not None
    assert decision.confirm.applied(shard("ada").join_user_group("team").to_json())
    with pytest.raises(NotAllowed, match="only add yourself"):
        user_group_change(call("x"), ADMINS, shard("bob"), "bob", "team", joining=True)
    by_admin = user_group_change(call("x", user="root"), ADMINS, shard("bob"), "bob", "team",
                                 joining=False)
    assert by_admin.items[0]["action"] == "remove"
