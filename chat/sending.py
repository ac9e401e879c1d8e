"""Chat messages as decisions: who may send what, and who receives it.

Every send takes an optional last argument, ``clientMessageId``: a retry with the same one gets the
same message id, so it is shown and kept once (:mod:`chat.limits` skips resending it). A refusal
raises a :class:`~chat.errors.ChatError` before anything is produced, so a refused call sends
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .decisions import Decision, Stamp
from .entities import CHAT_ROOM, Signal
from .errors import NotAllowed, NotOnline
from .groups import Members
from .history import LOBBY
from .invocation import Invocation
from .messages import ChatMessage, keyed_message_id, new_message
from .outputs import Item, to_all, to_connection, to_group, to_user
from .presence import Presence
from .settings import Settings
from .validation import (
    validate_client_message_id,
    validate_connection_id,
    validate_group_name,
    validate_text,
    validate_user_name,
)

__all__ = [
    "Draft",
    "broadcast_message",
    "group_message",
    "private_to_connection",
    "private_to_user",
    "read_draft",
]

_TARGETS: dict[str, str | None] = {
    "broadcast": None, "sendToGroup": "group", "sendToUser": "user",
    "sendToConnection": "connectionId",
}
_CHECKS = {"group": validate_group_name, "user": validate_user_name,
           "connectionId": validate_connection_id}


@dataclass(frozen=True, kw_only=True)
class Draft:
    """A send's checked arguments."""

    to: str | None
    """The group, user or connection; None for a broadcast."""
    text: str
    client_message_id: str | None


def read_draft(call: Invocation, settings: Settings) -> Draft:
    """The arguments of ``broadcast``, ``sendToGroup``, ``sendToUser`` or ``sendToConnection``."""
    target = _TARGETS.get(call.event)
    names = ([target] if target else []) + ["text", "clientMessageId?"]
    values = call.expect(*names)
    to = _CHECKS[target](values[0]) if target else None
    text, client_id = values[-2], values[-1]
    return Draft(
        to=to, text=validate_text(text, settings.max_message_length, settings.max_message_bytes),
        client_message_id=None if client_id is None else validate_client_message_id(client_id),
    )


def _message(call: Invocation, draft: Draft, stamp: Stamp, **extra: Any) -> ChatMessage:
    key = draft.client_message_id
    return new_message(
        id=keyed_message_id(call.owner, key) if key else stamp.id, sender=call.user_id,
        connection_id=call.connection_id, text=draft.text, now=stamp.now, **extra,
    )


def _decision(message: ChatMessage, draft: Draft, items: list[Item],
              signals: tuple[Signal, ...] = ()) -> Decision:
    return Decision(items=tuple(items), signals=signals, result=message.id,
                    client_message_id=draft.client_message_id)


def broadcast_message(call: Invocation, draft: Draft, stamp: Stamp) -> Decision:
    """``broadcast(text)``: everyone receives ``newMessage``; the room's history keeps it.

    The history is not read back: only later connections read it, and clients de-duplicate.
    """
    message = _message(call, draft, stamp)
    payload = message.to_payload()
    return _decision(message, draft, [to_all("newMessage", payload)],
                     (Signal(entity=CHAT_ROOM, key=LOBBY, operation="append", data=payload),))


def _echo(call: Invocation, payload: dict[str, Any], delivered_to_user: str | None) -> list[Item]:
    """The sender's copy of a private message, on all of the sender's own connections."""
    if call.user_id is not None:
        if call.user_id == delivered_to_user:
            return []
        return [to_user(call.user_id, "newMessage", payload)]
    return [to_connection(call.connection_id, "newMessage", payload)]


def private_to_user(call: Invocation, draft: Draft, stamp: Stamp, *, online: bool) -> Decision:
    """``sendToUser(user, text)``: to every connection of ``user``, echoed to the sender's.

    ``online``: whether the service has a connection of ``user`` (the truth, not presence).
    """
    recipient = draft.to
    assert recipient is not None
    if not online:
        raise NotOnline(f"{recipient} is not online, so the message was not sent.")
    message = _message(call, draft, stamp, is_private=True, recipient=recipient)
    payload = message.to_payload()
    return _decision(message, draft, [to_user(recipient, "newMessage", payload),
                                      *_echo(call, payload, recipient)])


def private_to_connection(call: Invocation, draft: Draft, stamp: Stamp, shard: Presence, *,
                          exists: bool) -> Decision:
    """``sendToConnection(connectionId, text)``: to one connection, echoed to the sender's.

    ``exists`` comes from the service. The recipient is named by its user when it is one of the
    sender's own connections (``shard``), otherwise by the connection id.
    """
    target = draft.to
    assert target is not None
    if not exists:
        raise NotOnline(f"Connection {target} is not connected, so the message was not sent.")
    own = call.user_id is not None and shard.has(target)
    message = _message(call, draft, stamp, is_private=True,
                       recipient=call.user_id if own else target)
    payload = message.to_payload()
    if own and call.user_id is not None:
        return _decision(message, draft, [to_user(call.user_id, "newMessage", payload)])
    items = [to_connection(target, "newMessage", payload)]
    if target != call.connection_id:
        items += _echo(call, payload, None)
    return _decision(message, draft, items)


def group_message(call: Invocation, draft: Draft, stamp: Stamp, shard: Presence,
                  members: Members) -> Decision:
    """``sendToGroup(group, text)``: only a member (by connection or by user) may send."""
    group = draft.to
    assert group is not None
    if not (members.has(call.connection_id) or group in shard.user_groups):
        raise NotAllowed(f"Only members of {group} can send to it; join it first.")
    message = _message(call, draft, stamp, group=group)
    return _decision(message, draft, [to_group(group, "newMessage", message.to_payload())])
