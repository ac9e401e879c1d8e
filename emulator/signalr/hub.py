"""Who is connected where: hubs, users and groups, as plain dicts (no sockets, no clock).

Hub names are case-insensitive (stored lower-cased, as the Management SDK sends them:
docs/serverless-contracts.md, "Versions and routes"); user ids, group names and connection ids are
compared ordinally. User↔group memberships outlive connections:
they apply to a user's current and future connections until removed or expired (``ttl``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

__all__ = ["MAX_USER_GROUPS_WITHOUT_TTL", "HubState", "Member"]

MAX_USER_GROUPS_WITHOUT_TTL = 100


class Member(Protocol):
    @property
    def connection_id(self) -> str: ...

    @property
    def user_id(self) -> str | None: ...


C = TypeVar("C", bound=Member)


@dataclass
class _Hub(Generic[C]):
    connections: dict[str, C] = field(default_factory=dict)
    users: dict[str, str | set[str]] = field(default_factory=dict)
    """user → its one connection id, or a set of two or more: most users have one connection,
    and a set would cost each of them 0.2 KB (benchmarks/RESULTS.md, memory per connection)."""
    groups: dict[str, set[str]] = field(default_factory=dict)
    connection_groups: dict[str, set[str]] = field(default_factory=dict)
    user_groups: dict[str, dict[str, float | None]] = field(default_factory=dict)
    """user → group → expiry (``None``: no expiry)."""


class HubState(Generic[C]):
    def __init__(self) -> None:
        self._hubs: dict[str, _Hub[C]] = {}

    def _hub(self, hub: str) -> _Hub[C]:
        return self._hubs.setdefault(hub.lower(), _Hub())

    def _peek(self, hub: str) -> _Hub[C] | None:
        return self._hubs.get(hub.lower())

    # -- connections --------------------------------------------------------------------------

    def add_connection(self, hub: str, connection: C, *, now: float) -> None:
        """Register a connection; it joins the groups its user was added to."""
        state = self._hub(hub)
        cid = connection.connection_id
        state.connections[cid] = connection
        # No empty group set per connection: created on the first join (memory per connection).
        user = connection.user_id
        if user:
            ids = state.users.get(user)
            if ids is None:
                state.users[user] = cid
            elif isinstance(ids, set):
                ids.add(cid)
            elif ids != cid:
                state.users[user] = {ids, cid}
            for group in self._live_user_groups(state, user, now):
                self._join(state, cid, group)

    def remove_connection(self, hub: str, connection_id: str) -> C | None:
        """Forget a connection and take it out of every group."""
        state = self._peek(hub)
        if state is None or connection_id not in state.connections:
            return None
        connection = state.connections.pop(connection_id)
        for group in state.connection_groups.pop(connection_id, set()):
            self._leave(state, connection_id, group)
        user = connection.user_id
        if user:
            ids = state.users.get(user)
            if isinstance(ids, set):
                ids.discard(connection_id)
                if len(ids) == 1:
                    state.users[user] = next(iter(ids))
            elif ids == connection_id:
                del state.users[user]
        return connection

    def get_connection(self, hub: str, connection_id: str) -> C | None:
        state = self._peek(hub)
        return state.connections.get(connection_id) if state else None

    def connections(self, hub: str, *, excluded: Iterable[str] = ()) -> list[C]:
        state = self._peek(hub)
        if state is None:
            return []
        skip = set(excluded)
        if not skip:  # a broadcast to everyone: copied in C
            return list(state.connections.values())
        return [c for cid, c in state.connections.items() if cid not in skip]

    def all_connections(self) -> list[C]:
        return [c for state in self._hubs.values() for c in state.connections.values()]

    def user_connections(self, hub: str, user: str, *, excluded: Iterable[str] = ()) -> list[C]:
        state = self._peek(hub)
        if state is None:
            return []
        skip = set(excluded)
        return [state.connections[cid] for cid in sorted(_user_ids(state, user))
                if cid not in skip]

    def group_connections(self, hub: str, group: str, *, excluded: Iterable[str] = ()) -> list[C]:
        state = self._peek(hub)
        if state is None:
            return []
        skip = set(excluded)
        return [state.connections[cid] for cid in sorted(state.groups.get(group, ()))
                if cid not in skip]

    def group_members(
        self, hub: str, group: str, *, after: str | None = None, limit: int | None = None
    ) -> tuple[list[C], bool]:
        """The group's connections in ordinal connection-id order, only those after ``after``
        (a cursor: the last id of the previous page), at most ``limit``; and whether more follow.

        A cursor never repeats a connection across pages; one that joins behind it is missed.
        """
        state = self._peek(hub)
        if state is None:
            return [], False
        ids = sorted(cid for cid in state.groups.get(group, ()) if after is None or cid > after)
        shown = ids if limit is None else ids[:limit]
        return [state.connections[cid] for cid in shown], len(shown) < len(ids)

    def has_user(self, hub: str, user: str) -> bool:
        state = self._peek(hub)
        return bool(state and _user_ids(state, user))

    def has_group(self, hub: str, group: str) -> bool:
        state = self._peek(hub)
        return bool(state and state.groups.get(group))

    # -- connection ↔ group -------------------------------------------------------------------

    def add_to_group(self, hub: str, connection_id: str, group: str) -> bool:
        """False when the connection is unknown."""
        state = self._peek(hub)
        if state is None or connection_id not in state.connections:
            return False
        self._join(state, connection_id, group)
        return True

    def remove_from_group(self, hub: str, connection_id: str, group: str) -> bool:
        """False when the connection was not in the group."""
        state = self._peek(hub)
        if state is None or group not in state.connection_groups.get(connection_id, ()):
            return False
        self._leave(state, connection_id, group)
        return True

    def remove_from_all_groups(self, hub: str, connection_id: str) -> bool:
        state = self._peek(hub)
        if state is None or connection_id not in state.connections:
            return False
        for group in list(state.connection_groups.get(connection_id, ())):
            self._leave(state, connection_id, group)
        return True

    # -- user ↔ group -------------------------------------------------------------------------

    def add_user_to_group(
        self, hub: str, user: str, group: str, *, now: float, ttl: float | None = None
    ) -> None:
        """Add the user's connections now and later; ``ttl`` = 0 → only current connections."""
        state = self._hub(hub)
        for cid in _user_ids(state, user):
            self._join(state, cid, group)
        if ttl == 0:
            return
        memberships = state.user_groups.setdefault(user, {})
        memberships.pop(group, None)  # re-adding makes it the latest
        memberships[group] = None if ttl is None else now + ttl
        if ttl is None:
            # Only the latest 100 groups a user joined without a TTL are kept (the ``ttl`` text of
            # Azure/azure-signalr docs/swagger/V20220601.json; docs/serverless-contracts.md, "Groups
            # and users").
            lasting = [g for g, expiry in memberships.items() if expiry is None]
            for stale in lasting[:-MAX_USER_GROUPS_WITHOUT_TTL]:
                del memberships[stale]

    def remove_user_from_group(self, hub: str, user: str, group: str) -> bool:
        """Drop the membership and take the user's connections out; False if not a member."""
        state = self._peek(hub)
        if state is None:
            return False
        was_member = state.user_groups.get(user, {}).pop(group, False) is not False
        for cid in _user_ids(state, user):
            if group in state.connection_groups.get(cid, ()):
                self._leave(state, cid, group)
                was_member = True
        return was_member

    def remove_user_from_all_groups(self, hub: str, user: str) -> None:
        state = self._peek(hub)
        if state is None:
            return
        state.user_groups.pop(user, None)
        for cid in _user_ids(state, user):
            for group in list(state.connection_groups.get(cid, ())):
                self._leave(state, cid, group)

    def user_in_group(self, hub: str, user: str, group: str, *, now: float) -> bool:
        state = self._peek(hub)
        if state is None:
            return False
        if group in self._live_user_groups(state, user, now):
            return True
        return any(group in state.connection_groups.get(cid, ())
                   for cid in _user_ids(state, user))

    # -- private ------------------------------------------------------------------------------

    @staticmethod
    def _live_user_groups(state: _Hub[C], user: str, now: float) -> list[str]:
        memberships = state.user_groups.get(user, {})
        for group, expiry in list(memberships.items()):
            if expiry is not None and expiry <= now:
                del memberships[group]
        return list(memberships)

    @staticmethod
    def _join(state: _Hub[C], connection_id: str, group: str) -> None:
        state.groups.setdefault(group, set()).add(connection_id)
        state.connection_groups.setdefault(connection_id, set()).add(group)

    @staticmethod
    def _leave(state: _Hub[C], connection_id: str, group: str) -> None:
        members = state.groups.get(group)
        if members is not None:
            members.discard(connection_id)
            if not members:
                del state.groups[group]
        state.connection_groups.get(connection_id, set()).discard(group)


def _user_ids(state: _Hub[C], user: str) -> Collection[str]:
    """The user's connection ids (see ``_Hub.users``)."""
    ids = state.users.get(user)
    if ids is None:
        return ()
    return (ids,) if isinstance(ids, str) else ids
