"""Connections opening and closing, as decisions (the ``connected`` / ``disconnected`` events).

Opening: the shell signals ``connect`` and reads the owner's shard back until the connection
shows, which tells it whether this connection opened the session (exactly one ``userJoined``
per session, even when two tabs open at once or a reload's ``disconnected`` is still queued).
It waits a bounded time: if the entity is slower (an idle Azure Storage task hub), it goes on
with the state predicted from the last read, and the reconcile pass repairs any difference.
When the shard lists other connections, the service is asked whether they still exist, and the
dead ones are pruned. Nothing on the join path waits for the roster.

A connection the app did not know that invokes a hub method is registered the same way
(``announce=False``: no ``newConnection``), and receives the history and the online list it
missed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .decisions import Confirm, Decision
from .entities import GROUP, PRESENCE, Signal, entity_key
from .history import History
from .invocation import Invocation
from .news import News, entry_of, presence_change
from .outputs import Item, add_user, to_connection
from .presence import MAX_CONNECTIONS, Presence
from .roster import Roster
from .settings import Settings

__all__ = [
    "TOO_MANY_CONNECTIONS",
    "after_connect",
    "connected_outputs",
    "disconnected_outputs",
    "plan_connect",
    "plan_disconnect",
]

TOO_MANY_CONNECTIONS = (f"You have {MAX_CONNECTIONS} connections open already; close one and "
                        f"reload this page.")


def plan_connect(call: Invocation) -> Decision:
    """Signal ``connect`` and read the shard back until this connection shows (or is refused)."""
    cid = call.connection_id
    key = entity_key(call.owner)

    def applied(state: Any) -> bool:
        return Presence.from_json(state).knows(cid)

    return Decision(
        signals=(Signal(entity=PRESENCE, key=key, operation="connect",
                        data={"connectionId": cid, "user": call.user_id}),),
        confirm=Confirm(entity=PRESENCE, key=key, applied=applied, what="Connecting"))


def after_connect(call: Invocation, shard: Presence,
                  alive: Mapping[str, bool]) -> tuple[Presence, tuple[Signal, ...], bool]:
    """The shard once the connections the service no longer has are pruned; whether this one
    is refused (the user has :data:`MAX_CONNECTIONS` already); the signals for both.

    ``shard`` has this connection recorded (read back, or predicted); ``alive`` answers for the
    other connections. Pruning a dead opener hands the session to the oldest one left, so a
    user coming back after a crash, alone, opens it and is announced with ``userJoined``.
    """
    cid = call.connection_id
    key = entity_key(call.owner)
    dead = tuple(c for c in shard.connections if c != cid and not alive.get(c, True))
    after = shard.remove(dead)
    signals: list[Signal] = []
    if dead:
        signals.append(Signal(entity=PRESENCE, key=key, operation="prune",
                              data={"connectionIds": list(dead)}))
    refused = (after.is_closed(cid) and not after.has(cid)) or len(
        after.connections) > MAX_CONNECTIONS
    if refused and after.has(cid):
        signals.append(Signal(entity=PRESENCE, key=key, operation="disconnect",
                              data={"connectionId": cid}))
        after = after.remove((cid,))
    return after, tuple(signals), refused


def connected_outputs(call: Invocation, settings: Settings, after: Presence, history: History,
                      roster: Roster, *, announce: bool = True) -> tuple[Decision, News]:
    """What a (newly recorded) connection receives, and what everyone hears of it.

    ``after`` is the shard with this connection recorded (read back, or predicted). Each item is
    sent on its own, so one failing send cannot hold back the others. The user's groups recorded
    in presence are applied again: the service forgets them when it restarts. ``newConnection``
    goes to the new connection only: it tells the page its own id and whether the upstream
    call carried ``Authorization`` (sent to everyone, it would cost a delivery per connection
    per join, and the original sample's page takes it as its own id).
    """
    cid = call.connection_id
    key = entity_key(call.owner)
    items: list[Item] = []
    if call.user_id is not None:
        items += [add_user(call.user_id, group) for group in after.user_groups]
    items += [
        to_connection(cid, "onlineUsers", roster.snapshot((key, entry_of(after)))),
        to_connection(cid, "history", history.encoded(settings.history_size)),
    ]
    if announce:
        # Both spellings: the original sample's page reads ConnectionId and Authentication.
        items.append(to_connection(cid, "newConnection", {
            "connectionId": cid, "authentication": call.authenticated,
            "ConnectionId": cid, "Authentication": call.authenticated}))
    opened = after.has(cid) and after.opener == cid
    change = presence_change(call.user_id, not opened, after, ended_by_us=False)
    return Decision(items=tuple(items)), News.of(key, after, change)


def plan_disconnect(call: Invocation, shard: Presence) -> tuple[Decision, Presence]:
    """Signals and confirmation for ``disconnect``, with the state it predicts.

    The groups the connection joined itself are told it left (admin-added ones stay listed,
    harmlessly: nobody can speak as a closed connection).
    """
    cid = call.connection_id
    key = entity_key(call.owner)
    signals = [Signal(entity=PRESENCE, key=key, operation="disconnect",
                      data={"connectionId": cid})]
    signals += [Signal(entity=GROUP, key=entity_key(group), operation="remove",
                       data={"connectionId": cid}) for group in shard.connections.get(cid, ())]

    def applied(state: Any) -> bool:
        return Presence.from_json(state).is_closed(cid)

    decision = Decision(signals=tuple(signals), confirm=Confirm(
        entity=PRESENCE, key=key, applied=applied, what="Disconnecting"))
    return decision, shard.remove((cid,))


def disconnected_outputs(call: Invocation, after: Presence) -> News:
    """``userLeft`` when this connection ended the session, else the new number of connections."""
    cid = call.connection_id
    ended_by_us = not after.online and after.departed == cid
    change = presence_change(call.user_id, True, after, ended_by_us=ended_by_us)
    return News.of(entity_key(call.owner), after, change)
