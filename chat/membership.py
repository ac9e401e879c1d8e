"""Group membership changes as decisions: who may move whom, what is recorded, what to confirm.

A caller relies on a completed ``joinGroup`` (its next ``sendToGroup`` must be accepted), so each
change is confirmed: the shell reads the entity back until the change shows and, if it does not
within the bound, refuses with :class:`~chat.errors.TryAgain` and sends nothing. The queued
signal may still land later, which a retry (idempotent) makes consistent.
"""

from __future__ import annotations

from typing import Any

from .decisions import Confirm, Decision
from .entities import GROUP, PRESENCE, Signal, entity_key
from .errors import LimitReached, NotAllowed, NotOnline
from .groups import Members
from .invocation import Invocation, user_owner
from .outputs import add_connection, add_user, remove_connection, remove_user
from .presence import MAX_GROUPS, Presence
from .settings import Settings
from .validation import validate_connection_id, validate_group_name, validate_user_name

__all__ = [
    "connection_group_change",
    "read_connection_group_change",
    "read_user_group_change",
    "user_group_change",
]

_FULL = f"You can be in at most {MAX_GROUPS} groups; leave one first."


def read_connection_group_change(call: Invocation) -> tuple[str, str]:
    """``(connectionId, group)`` of ``joinGroup`` / ``leaveGroup``, checked."""
    connection_id, group = call.expect("connectionId", "group")
    return validate_connection_id(connection_id), validate_group_name(group)


def connection_group_change(
    call: Invocation, settings: Settings, shard: Presence, connection_id: str, group: str, *,
    joining: bool, target_exists: bool,
) -> Decision:
    """The caller's own connection, or any connected one for an admin.

    ``shard`` is the caller's presence; ``target_exists`` the service's answer for another
    connection (ignored for the caller's own).
    """
    own = connection_id == call.connection_id
    if not own:
        if not settings.is_admin(call.user_id):
            verb = "add" if joining else "remove"
            raise NotAllowed(f"You can only {verb} your own connection; that needs an admin.")
        if not target_exists:
            raise NotOnline(f"Connection {connection_id} is not connected.")
    if joining and own and not shard.can_join(group):
        raise LimitReached(_FULL)
    key = entity_key(group)
    data = {"connectionId": connection_id, "group": group}
    signals = [Signal(entity=GROUP, key=key, operation="add" if joining else "remove",
                      data={"connectionId": connection_id})]
    if own:
        signals.append(Signal(entity=PRESENCE, key=entity_key(call.owner),
                              operation="joinGroup" if joining else "leaveGroup", data=data))

    def applied(state: Any) -> bool:
        return Members.from_json(state).has(connection_id) == joining

    item = (add_connection if joining else remove_connection)(connection_id, group)
    return Decision(items=(item,), signals=tuple(signals), result=group, confirm=Confirm(
        entity=GROUP, key=key, applied=applied,
        what=f"{'Joining' if joining else 'Leaving'} {group}"))


def read_user_group_change(call: Invocation) -> tuple[str, str]:
    """``(user, group)`` of ``joinUserToGroup`` / ``leaveUserFromGroup``, checked."""
    user, group = call.expect("user", "group")
    return validate_user_name(user), validate_group_name(group)


def user_group_change(call: Invocation, settings: Settings, shard: Presence, user: str,
                      group: str, *, joining: bool) -> Decision:
    """Oneself (all connections, now and later), or anyone for an admin; ``shard`` is ``user``'s."""
    if user != call.user_id and not settings.is_admin(call.user_id):
        verb = "add" if joining else "remove"
        raise NotAllowed(f"You can only {verb} yourself; adding others needs an admin.")
    if joining and not shard.can_join(group):
        raise LimitReached(_FULL if user == call.user_id
                           else f"{user} is in {MAX_GROUPS} groups already.")
    key = entity_key(user_owner(user))

    def applied(state: Any) -> bool:
        return (group in Presence.from_json(state).user_groups) == joining

    item = (add_user if joining else remove_user)(user, group)
    return Decision(
        items=(item,), result=group,
        signals=(Signal(entity=PRESENCE, key=key, operation="joinUser" if joining else "leaveUser",
                        data={"group": group}),),
        confirm=Confirm(entity=PRESENCE, key=key, applied=applied,
                        what=f"{'Joining' if joining else 'Leaving'} {group}"))
