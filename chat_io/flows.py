"""The handlers' steps: read what a decision needs, ask ``chat`` for it, carry it out.

Each flow returns what the function hands back; the output binding (``out``) carries the items
unless the service is called directly (a new connection's outputs, each sent on its own).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import azure.functions as func

from chat import (
    CHAT_ROOM,
    GROUP,
    PRESENCE,
    ROSTER,
    ROSTER_KEY,
    Decision,
    Draft,
    Invocation,
    Members,
    News,
    Presence,
    ReconcilePlan,
    Roster,
    after_connect,
    batch_news,
    broadcast_message,
    connected_outputs,
    connection_group_change,
    connections_to_check,
    disconnected_outputs,
    entity_key,
    group_message,
    plan_connect,
    plan_disconnect,
    plan_reconcile,
    private_to_connection,
    private_to_user,
    read_connection_group_change,
    read_draft,
    read_user_group_change,
    user_group_change,
    user_owner,
)
from chat.connections import TOO_MANY_CONNECTIONS
from chat.outputs import Item
from chat.outputs import to_connection as to_connection_item

from .entities import Entities, carry_out, refusals, send, settle, stamp
from .environment import instance, service, settings

__all__ = [
    "change_connection_group",
    "change_user_group",
    "close_connection",
    "open_connection",
    "reconcile_pass",
    "send_message",
    "to_connection",
    "to_everyone",
    "to_group",
    "to_user",
]

log = logging.getLogger("chat")
READS_AT_ONCE = 16


# -- connections ----------------------------------------------------------------------------------


async def open_connection(call: Invocation, store: Entities, *,
                          announce: bool) -> tuple[Presence, list[Item]]:
    """Record a connection and send what it and everyone else should receive (chat.connections).

    Returns the shard and the items still to send: all of them when the service cannot be
    called directly (they then go through the output binding, in order).
    """
    rest = service()
    plan = plan_connect(call)
    await store.signal(plan.signals)
    memory = instance()
    history, roster = await asyncio.gather(memory.snapshots.history(store),
                                           memory.snapshots.roster(store))
    assert plan.confirm is not None
    done, state = await store.confirm(plan.confirm)
    shard = Presence.from_json(state)
    if not done:
        log.warning("Connecting: not confirmed within the wait; going on with the expected "
                    "state")
        shard = shard.connect(call.connection_id, call.user_id)
    others = [cid for cid in shard.connections if cid != call.connection_id]
    after, signals, refused = after_connect(call, shard, await rest.alive(others))
    await store.signal(signals)
    if refused:
        log.warning("closing connection %s of user %s: %s", call.connection_id, call.user_id,
                    TOO_MANY_CONNECTIONS)
        await rest.close(call.connection_id, TOO_MANY_CONNECTIONS)
        return after, []
    memory.known.add(call.connection_id)
    direct, news = connected_outputs(call, settings(), after, history, roster, announce=announce)
    if not rest.usable:
        return after, [*direct.items, *await _publish_later(store, news)]
    await rest.send_each(direct.items)
    await memory.feed.publish(news, store, rest)
    return after, []


async def _publish_later(store: Entities, *news: News) -> list[Item]:
    """Without direct calls: the roster is signalled now, the events go with the binding."""
    for item in news:
        instance().snapshots.updated(item.entries)
    decision = batch_news(news)
    await store.signal(decision.signals)
    return list(decision.items)


async def close_connection(call: Invocation, store: Entities, out: func.Out[str]) -> None:
    """Record a closed connection; ``userLeft`` when it was the user's last one."""
    instance().known.discard(call.connection_id)
    shard = Presence.from_json(await store.read(PRESENCE, entity_key(call.owner)))
    plan, predicted = plan_disconnect(call, shard)
    news = disconnected_outputs(call, await settle(store, plan, predicted))
    rest = service()
    if rest.usable:
        await instance().feed.publish(news, store, rest)
    else:
        send(out, await _publish_later(store, news))


async def _caller(call: Invocation, store: Entities, *,
                  needs_shard: bool = True) -> tuple[Presence, list[Item]]:
    """The caller's shard; a connection presence does not know is registered first.

    ``needs_shard=False``: the call uses nothing from the shard, so a connection this instance
    recorded itself is not read again.
    """
    if not needs_shard and call.connection_id in instance().known:
        return Presence(), []
    shard = Presence.from_json(await store.read(PRESENCE, entity_key(call.owner)))
    if shard.knows(call.connection_id):
        return shard, []
    log.info("registering connection %s (user %s), unknown to presence", call.connection_id,
             call.user_id)
    return await open_connection(call, store, announce=False)


async def _finish(store: Entities, decision: Decision, unsent: list[Item],
                  out: func.Out[str]) -> Any:
    return await carry_out(store, replace(decision, items=(*unsent, *decision.items)), out)


# -- messages -------------------------------------------------------------------------------------

Decide = Callable[[Invocation, Draft, Presence, Entities], Awaitable[Decision]]


async def send_message(invocation: Invocation, store: Entities, out: func.Out[str],
                       decide: Decide) -> str:
    """Check the draft, recognise a retry, apply the rate limit, then decide and send."""
    call, config, memory = invocation, settings(), instance()
    with refusals(call):
        draft = read_draft(call, config)
        earlier = memory.limits.admit(call.owner, draft.client_message_id, time.time(), config)
        if earlier is not None:
            log.info("retry of %s by user %s: sent to the retrying connection only",
                     earlier.message_id, call.user_id)
            send(out, [to_connection_item(call.connection_id, "newMessage",
                                          dict(earlier.payload))])
            return earlier.message_id
        shard, unsent = await _caller(call, store, needs_shard=decide in (to_group, to_connection))
        decision = await decide(call, draft, shard, store)
        result = str(await _finish(store, decision, unsent, out))
    for signal in decision.signals:  # the history this instance hands to new connections
        if signal.entity == CHAT_ROOM:
            memory.snapshots.appended(signal.data, config.history_size)
    if draft.client_message_id is not None:
        payload = next(item["arguments"][0] for item in decision.items
                       if item.get("target") == "newMessage")
        memory.limits.remember(call.owner, draft.client_message_id, result, payload, time.time())
    return result


async def to_everyone(call: Invocation, draft: Draft, shard: Presence,
                      store: Entities) -> Decision:
    return broadcast_message(call, draft, stamp())


async def to_group(call: Invocation, draft: Draft, shard: Presence, store: Entities) -> Decision:
    assert draft.to is not None
    members = Members.from_json(await store.read(GROUP, entity_key(draft.to)))
    return group_message(call, draft, stamp(), shard, members)


async def to_user(call: Invocation, draft: Draft, shard: Presence, store: Entities) -> Decision:
    assert draft.to is not None
    online = await service().user_exists(draft.to)
    if online is None:  # the service cannot be asked: presence's view, healed by reconcile
        recipient = await store.read(PRESENCE, entity_key(user_owner(draft.to)))
        online = Presence.from_json(recipient).online
    return private_to_user(call, draft, stamp(), online=online)


async def to_connection(call: Invocation, draft: Draft, shard: Presence,
                        store: Entities) -> Decision:
    assert draft.to is not None
    exists = await service().connection_exists(draft.to)
    return private_to_connection(call, draft, stamp(), shard, exists=exists is not False)


# -- groups ---------------------------------------------------------------------------------------


async def change_connection_group(call: Invocation, store: Entities, out: func.Out[str], *,
                                  joining: bool) -> str:
    with refusals(call):
        connection_id, group = read_connection_group_change(call)
        shard, unsent = await _caller(call, store)
        exists = (connection_id == call.connection_id
                  or await service().connection_exists(connection_id) is not False)
        decision = connection_group_change(call, settings(), shard, connection_id, group,
                                           joining=joining, target_exists=exists)
        return str(await _finish(store, decision, unsent, out))


async def change_user_group(call: Invocation, store: Entities, out: func.Out[str], *,
                            joining: bool) -> str:
    with refusals(call):
        user, group = read_user_group_change(call)
        _, unsent = await _caller(call, store, needs_shard=False)
        shard = Presence.from_json(await store.read(PRESENCE, entity_key(user_owner(user))))
        decision = user_group_change(call, settings(), shard, user, group, joining=joining)
        return str(await _finish(store, decision, unsent, out))


# -- reconcile ------------------------------------------------------------------------------------


async def reconcile_pass(store: Entities, out: func.Out[str]) -> ReconcilePlan:
    """Read the roster and every listed shard, ask the service, carry out chat.reconcile: the
    prunes first, then the news, published as every presence change is."""
    listed = Roster.from_json(await store.read(ROSTER, ROSTER_KEY))
    keys = list(listed.online)
    gate = asyncio.Semaphore(READS_AT_ONCE)

    async def read(key: str) -> Any:
        async with gate:
            return await store.read(PRESENCE, key)

    states = await asyncio.gather(*(read(key) for key in keys), return_exceptions=True)
    shards = {key: Presence.from_json(state) for key, state in zip(keys, states, strict=True)
              if not isinstance(state, BaseException)}
    rest = service()
    plan = plan_reconcile(listed, shards, await rest.alive(connections_to_check(shards)))
    await store.signal(plan.prunes)
    repeated = True
    if rest.usable:
        feed = instance().feed
        await asyncio.gather(*(feed.publish(news, store, rest) for news in plan.news))
        repeated = await rest.send_each(plan.repeats)
    else:
        send(out, [*await _publish_later(store, *plan.news), *plan.repeats])
    if repeated:  # else they stay fresh, for the next pass
        await store.signal(plan.repeated)
    log.info("reconcile: %d shard(s) checked, %d change(s), %d repeated", len(shards),
             len(plan.signals), len(listed.fresh) if repeated else 0)
    return plan
