"""The hub's methods as pure decisions: who may do what, and what is sent (issue 8 §1-§6).

Each function takes the parsed invocation, the settings and the entity state it needs, and
returns what the function outputs; a refusal raises a :class:`~chat.errors.ChatError` before
anything is produced, so a refused call sends nothing. ``function_app.py`` only reads bindings,
calls these, signals entities and sets the output binding.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import presence
from .errors import NotAllowed, NotOnline
from .history import history_messages
from .invocation import Invocation
from .messages import ChatMessage, new_message
from .outputs import (
    Item,
    add_connection,
    add_user,
    remove_connection,
    remove_user,
    to_all,
    to_connection,
    to_group,
    to_user,
)
from .validation import (
    DEFAULT_HISTORY_SIZE,
    DEFAULT_MAX_MESSAGE_LENGTH,
    parse_admins,
    parse_positive_int,
    validate_connection_id,
    validate_group_name,
    validate_text,
    validate_user_name,
)

__all__ = [
    "GroupChange",
    "Settings",
    "broadcast_message",
    "connected_outputs",
    "connection_group_change",
    "disconnected_outputs",
    "group_message",
    "private_to_connection",
    "private_to_user",
    "settings_from",
    "user_group_change",
]


@dataclass(frozen=True, kw_only=True)
class Settings:
    max_message_length: int = DEFAULT_MAX_MESSAGE_LENGTH
    history_size: int = DEFAULT_HISTORY_SIZE
    admins: frozenset[str] = frozenset()

    def is_admin(self, user: str | None) -> bool:
        return user is not None and user in self.admins


def identities_are_verified(values: Mapping[str, str]) -> bool:
    """False on an Azure site without App Service Authentication, where names are typed in.

    Azure sets ``WEBSITE_SITE_NAME`` on every site and ``WEBSITE_AUTH_ENABLED=True`` when App
    Service Authentication is on; only then is ``x-ms-client-principal-name`` the platform's.
    Off Azure (the offline stack, ``func start``) it is development: admins stay usable.
    """
    on_azure = bool(values.get("WEBSITE_SITE_NAME"))
    return not on_azure or values.get("WEBSITE_AUTH_ENABLED", "").lower() == "true"


def settings_from(values: Mapping[str, str]) -> Settings:
    """``CHAT_MAX_MESSAGE_LENGTH``, ``CHAT_HISTORY_SIZE``, ``CHAT_ADMINS`` from app settings.

    ``CHAT_ADMINS`` is ignored where anyone can claim any name (see identities_are_verified).
    """
    admins = parse_admins(values.get("CHAT_ADMINS"))
    return Settings(
        max_message_length=parse_positive_int(
            "CHAT_MAX_MESSAGE_LENGTH", values.get("CHAT_MAX_MESSAGE_LENGTH"),
            DEFAULT_MAX_MESSAGE_LENGTH,
        ),
        history_size=parse_positive_int(
            "CHAT_HISTORY_SIZE", values.get("CHAT_HISTORY_SIZE"), DEFAULT_HISTORY_SIZE
        ),
        admins=admins if identities_are_verified(values) else frozenset(),
    )


def _message(call: Invocation, text: str, *, id: str, now: float, **extra: Any) -> ChatMessage:
    return new_message(
        id=id, sender=call.user_id, connection_id=call.connection_id, text=text, now=now, **extra
    )


def broadcast_message(call: Invocation, settings: Settings, *, id: str, now: float) -> ChatMessage:
    """``broadcast(text)``: a message for everyone (and for the room's history)."""
    (text,) = call.expect("text")
    return _message(call, validate_text(text, settings.max_message_length), id=id, now=now)


def _echo(call: Invocation, message: dict[str, Any], delivered_to_user: str | None) -> list[Item]:
    """The sender's copy of a private message, on all of the sender's own connections."""
    if call.user_id is not None:
        if call.user_id == delivered_to_user:
            return []
        return [to_user(call.user_id, "newMessage", message)]
    return [to_connection(call.connection_id, "newMessage", message)]


def private_to_user(
    call: Invocation, settings: Settings, state: Any, *, id: str, now: float
) -> tuple[ChatMessage, list[Item]]:
    """``sendToUser(user, text)``: to every connection of ``user``, echoed to the sender's."""
    user, text = call.expect("user", "text")
    recipient = validate_user_name(user)
    text = validate_text(text, settings.max_message_length)
    if not presence.is_online(state, recipient):
        raise NotOnline(f"{recipient} is not online, so the message was not sent.")
    message = _message(call, text, id=id, now=now, is_private=True, recipient=recipient)
    payload = message.to_payload()
    return message, [to_user(recipient, "newMessage", payload), *_echo(call, payload, recipient)]


def private_to_connection(
    call: Invocation, settings: Settings, state: Any, *, id: str, now: float
) -> tuple[ChatMessage, list[Item]]:
    """``sendToConnection(connectionId, text)``: to one connection, echoed to the sender's."""
    target, text = call.expect("connectionId", "text")
    target = validate_connection_id(target)
    text = validate_text(text, settings.max_message_length)
    if not presence.is_connected(state, target):
        raise NotOnline(f"Connection {target} is not connected, so the message was not sent.")
    owner = presence.user_of(state, target)
    message = _message(call, text, id=id, now=now, is_private=True, recipient=owner or target)
    payload = message.to_payload()
    if owner is not None and owner == call.user_id:
        return message, [to_user(owner, "newMessage", payload)]  # one copy on each of theirs
    items = [to_connection(target, "newMessage", payload)]
    if target != call.connection_id:
        items += _echo(call, payload, None)
    return message, items


def group_message(
    call: Invocation, settings: Settings, state: Any, *, id: str, now: float
) -> tuple[ChatMessage, list[Item]]:
    """``sendToGroup(group, text)``: only a member (by connection or by user) may send."""
    group, text = call.expect("group", "text")
    group = validate_group_name(group)
    text = validate_text(text, settings.max_message_length)
    if not presence.is_member(state, group, call.connection_id, call.user_id):
        raise NotAllowed(f"Only members of {group} can send to it; join it first.")
    message = _message(call, text, id=id, now=now, group=group)
    return message, [to_group(group, "newMessage", message.to_payload())]


@dataclass(frozen=True)
class GroupChange:
    """A membership change: the ``Presence`` operation, its confirmation, the service action."""

    operation: str
    data: dict[str, str]
    applied: Callable[[Any], bool]
    item: Item
    group: str


def connection_group_change(
    call: Invocation, settings: Settings, state: Any, *, joining: bool
) -> GroupChange:
    """``joinGroup`` / ``leaveGroup(connectionId, group)``: own connection, or any if admin."""
    connection_id, group = call.expect("connectionId", "group")
    connection_id = validate_connection_id(connection_id)
    group = validate_group_name(group)
    if connection_id != call.connection_id:
        if not settings.is_admin(call.user_id):
            verb = "add" if joining else "remove"
            raise NotAllowed(f"You can only {verb} your own connection; that needs an admin.")
        if not presence.is_connected(state, connection_id):
            raise NotOnline(f"Connection {connection_id} is not connected.")
    data = {"connectionId": connection_id, "group": group}
    if joining:
        return GroupChange(
            "joinGroup", data,
            lambda s: presence.group_join_applied(s, group, connection_id),
            add_connection(connection_id, group), group,
        )
    return GroupChange(
        "leaveGroup", data,
        lambda s: presence.group_leave_applied(s, group, connection_id),
        remove_connection(connection_id, group), group,
    )


def user_group_change(call: Invocation, settings: Settings, *, joining: bool) -> GroupChange:
    """``joinUserToGroup`` / ``leaveUserFromGroup(user, group)``: oneself, or anyone if admin."""
    user, group = call.expect("user", "group")
    user = validate_user_name(user)
    group = validate_group_name(group)
    if user != call.user_id and not settings.is_admin(call.user_id):
        verb = "add" if joining else "remove"
        raise NotAllowed(f"You can only {verb} yourself; adding others needs an admin.")
    data = {"user": user, "group": group}
    if joining:
        return GroupChange(
            "joinUser", data, lambda s: presence.user_group_join_applied(s, group, user),
            add_user(user, group), group,
        )
    return GroupChange(
        "leaveUser", data, lambda s: presence.user_group_leave_applied(s, group, user),
        remove_user(user, group), group,
    )


def connected_outputs(
    call: Invocation, settings: Settings, state: Any, history: Any
) -> list[Item]:
    """For a new connection: its history and the online list; for everyone: the arrival.

    The user's group memberships recorded in ``Presence`` are applied again first: the entity
    is the durable record, while a restarted (offline) service has forgotten them.
    """
    items = [add_user(call.user_id, group) for group in presence.user_groups(state, call.user_id)
             if call.user_id is not None]
    items += [
        to_connection(call.connection_id, "history",
                      history_messages(history, settings.history_size)),
        to_connection(call.connection_id, "onlineUsers", presence.online_users(state)),
    ]
    joined = presence.joined_event(state, call.user_id, call.connection_id)
    if joined is not None:
        items.append(to_all("userJoined", joined))
    items.append(
        to_all("newConnection",
               {"connectionId": call.connection_id, "authentication": call.authenticated})
    )
    return items


def disconnected_outputs(call: Invocation, state: Any) -> list[Item]:
    """``userLeft`` for everyone when this was the user's last connection."""
    left = presence.left_event(state, call.user_id, call.connection_id)
    return [to_all("userLeft", left)] if left is not None else []
