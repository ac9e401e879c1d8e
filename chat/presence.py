"""Who is connected, as whom, and in which groups: the state of the ``Presence`` entity.

Issue 8 §2, §4, §6. Entity signals are one-way and asynchronous, may arrive twice, and signals
from clients have no FIFO guarantee (durable-python.md §4). So every operation is idempotent set
semantics, never a counter:

- ``connect`` adds a connection to its user's set; ``disconnect`` removes it and leaves a
  tombstone, so a late or repeated ``connect`` of a closed connection cannot bring it back.
- A user is online while their set is not empty. The connection that made the set non-empty is
  the user's ``opener``; the one that emptied it is recorded in ``departed``. Exactly one
  ``connected`` function sees itself as the opener, and exactly one ``disconnected`` function sees
  itself as the departure, so ``userJoined`` / ``userLeft`` are sent once per session even when
  several connections open or close at the same moment.
- ``version`` grows with every change of who is online and travels with ``userJoined``,
  ``userLeft`` and ``onlineUsers``; clients ignore an event older than what they already know,
  which settles the rare race where a quick rejoin's ``userJoined`` overtakes the ``userLeft``.

Functions that need their change to have taken effect before they answer (a caller whose
``invoke()`` completes expects to be in the group) read the state back until the matching
``*_applied`` predicate holds (see :mod:`chat.confirm`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

__all__ = [
    "MAX_TOMBSTONES",
    "PRESENCE_OPERATIONS",
    "apply_operation",
    "connect_applied",
    "connections_of",
    "disconnect_applied",
    "empty_presence",
    "group_join_applied",
    "group_leave_applied",
    "is_connected",
    "is_member",
    "is_online",
    "joined_event",
    "left_event",
    "online_users",
    "user_group_join_applied",
    "user_group_leave_applied",
    "user_groups",
    "user_of",
]

MAX_TOMBSTONES = 1000
"""Closed connection ids remembered to refuse a late ``connect``; oldest forgotten first."""

State = dict[str, Any]


def empty_presence() -> State:
    return {"version": 0, "connections": {}, "users": {}, "groups": {}, "closed": [],
            "departed": {}}


def _normal(state: Mapping[str, Any] | None) -> State:
    """A deep copy with every key present (an entity that never ran has no state)."""
    result = empty_presence()
    if isinstance(state, Mapping):
        result.update(copy.deepcopy(dict(state)))
    return result


def _group(state: State, group: str) -> dict[str, list[str]]:
    return state["groups"].setdefault(group, {"connections": [], "users": []})


def _prune_group(state: State, group: str) -> None:
    entry = state["groups"].get(group)
    if entry is not None and not entry["connections"] and not entry["users"]:
        del state["groups"][group]


def connect(state: Mapping[str, Any] | None, user: str | None, connection_id: str) -> State:
    new = _normal(state)
    if connection_id in new["closed"] or connection_id in new["connections"]:
        return new
    new["connections"][connection_id] = user
    if user is not None:
        entry = new["users"].get(user)
        if entry is None:
            new["version"] += 1
            new["users"][user] = {"connections": [connection_id], "opener": connection_id,
                                  "since": new["version"]}
        else:
            entry["connections"].append(connection_id)
    return new


def disconnect(state: Mapping[str, Any] | None, connection_id: str) -> State:
    new = _normal(state)
    if connection_id not in new["closed"]:
        new["closed"] = [*new["closed"], connection_id][-MAX_TOMBSTONES:]
    if connection_id not in new["connections"]:
        return new
    user = new["connections"].pop(connection_id)
    for group in list(new["groups"]):
        entry = new["groups"][group]
        if connection_id in entry["connections"]:
            entry["connections"].remove(connection_id)
            _prune_group(new, group)
    if user is not None and user in new["users"]:
        entry = new["users"][user]
        entry["connections"] = [c for c in entry["connections"] if c != connection_id]
        if not entry["connections"]:
            del new["users"][user]
            new["version"] += 1
            new["departed"][user] = {"connectionId": connection_id, "version": new["version"]}
            if len(new["departed"]) > MAX_TOMBSTONES:
                oldest = min(new["departed"], key=lambda name: new["departed"][name]["version"])
                del new["departed"][oldest]
    return new


def join_group(state: Mapping[str, Any] | None, group: str, connection_id: str) -> State:
    new = _normal(state)
    if connection_id in new["closed"]:
        return new
    members = _group(new, group)["connections"]
    if connection_id not in members:
        members.append(connection_id)
    return new


def leave_group(state: Mapping[str, Any] | None, group: str, connection_id: str) -> State:
    new = _normal(state)
    entry = new["groups"].get(group)
    if entry is not None and connection_id in entry["connections"]:
        entry["connections"].remove(connection_id)
        _prune_group(new, group)
    return new


def join_user(state: Mapping[str, Any] | None, group: str, user: str) -> State:
    new = _normal(state)
    members = _group(new, group)["users"]
    if user not in members:
        members.append(user)
    return new


def leave_user(state: Mapping[str, Any] | None, group: str, user: str) -> State:
    new = _normal(state)
    entry = new["groups"].get(group)
    if entry is not None and user in entry["users"]:
        entry["users"].remove(user)
        _prune_group(new, group)
    return new


PRESENCE_OPERATIONS = ("connect", "disconnect", "joinGroup", "leaveGroup", "joinUser",
                       "leaveUser")


def apply_operation(state: Mapping[str, Any] | None, name: str, data: Any) -> State:
    """One entity operation; ``data`` is the signal's input (a dict). Raises ValueError."""
    if not isinstance(data, Mapping):
        raise ValueError(f"operation {name!r} needs a JSON object as input")
    cid, group, user = data.get("connectionId"), data.get("group"), data.get("user")
    if name == "connect" and isinstance(cid, str):
        return connect(state, user if isinstance(user, str) else None, cid)
    if name == "disconnect" and isinstance(cid, str):
        return disconnect(state, cid)
    if name == "joinGroup" and isinstance(cid, str) and isinstance(group, str):
        return join_group(state, group, cid)
    if name == "leaveGroup" and isinstance(cid, str) and isinstance(group, str):
        return leave_group(state, group, cid)
    if name == "joinUser" and isinstance(user, str) and isinstance(group, str):
        return join_user(state, group, user)
    if name == "leaveUser" and isinstance(user, str) and isinstance(group, str):
        return leave_user(state, group, user)
    raise ValueError(f"unknown operation {name!r} or missing fields in {dict(data)!r}")


# -- queries (all accept ``None`` for an entity that does not exist yet) ------------------------


def is_connected(state: Any, connection_id: str) -> bool:
    return connection_id in _normal(state)["connections"]


def user_of(state: Any, connection_id: str) -> str | None:
    return _normal(state)["connections"].get(connection_id)


def connections_of(state: Any, user: str) -> list[str]:
    entry = _normal(state)["users"].get(user)
    return list(entry["connections"]) if entry else []


def is_online(state: Any, user: str) -> bool:
    return bool(connections_of(state, user))


def is_member(state: Any, group: str, connection_id: str, user: str | None) -> bool:
    """A connection is a member if it joined, or if its user was joined to the group."""
    entry = _normal(state)["groups"].get(group)
    if entry is None:
        return False
    return connection_id in entry["connections"] or (user is not None and user in entry["users"])


def user_groups(state: Any, user: str | None) -> list[str]:
    """Groups ``user`` was joined to as a user (``joinUserToGroup``), sorted."""
    if user is None:
        return []
    groups = _normal(state)["groups"]
    return sorted(name for name, entry in groups.items() if user in entry["users"])


def online_users(state: Any) -> dict[str, Any]:
    """The ``onlineUsers`` argument: users (sorted) with their number of connections."""
    normal = _normal(state)
    users = [{"user": name, "connections": len(entry["connections"])}
             for name, entry in sorted(normal["users"].items())]
    return {"users": users, "version": normal["version"]}


def joined_event(state: Any, user: str | None, connection_id: str) -> dict[str, Any] | None:
    """The ``userJoined`` argument if ``connection_id`` opened the user's session, else None."""
    entry = _normal(state)["users"].get(user) if user is not None else None
    if entry is None or entry.get("opener") != connection_id:
        return None
    return {"user": user, "version": entry["since"]}


def left_event(state: Any, user: str | None, connection_id: str) -> dict[str, Any] | None:
    """The ``userLeft`` argument if closing ``connection_id`` ended the user's session."""
    if user is None:
        return None
    normal = _normal(state)
    departed = normal["departed"].get(user)
    if departed is None or departed.get("connectionId") != connection_id:
        return None
    # If the user is back already, their newer userJoined carries a higher version: clients
    # that saw it ignore this event.
    return {"user": user, "version": departed["version"]}


# -- confirmations: has the signalled change been committed? ----------------------------------


def connect_applied(state: Any, connection_id: str) -> bool:
    normal = _normal(state)
    return connection_id in normal["connections"] or connection_id in normal["closed"]


def disconnect_applied(state: Any, connection_id: str) -> bool:
    return connection_id in _normal(state)["closed"]


def group_join_applied(state: Any, group: str, connection_id: str) -> bool:
    normal = _normal(state)
    entry = normal["groups"].get(group)
    return (entry is not None and connection_id in entry["connections"]) or (
        connection_id in normal["closed"]
    )


def group_leave_applied(state: Any, group: str, connection_id: str) -> bool:
    entry = _normal(state)["groups"].get(group)
    return entry is None or connection_id not in entry["connections"]


def user_group_join_applied(state: Any, group: str, user: str) -> bool:
    entry = _normal(state)["groups"].get(group)
    return entry is not None and user in entry["users"]


def user_group_leave_applied(state: Any, group: str, user: str) -> bool:
    entry = _normal(state)["groups"].get(group)
    return entry is None or user not in entry["users"]
