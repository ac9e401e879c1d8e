"""The durable client as the chat uses it, and carrying out a :class:`chat.Decision`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import azure.durable_functions as df
import azure.functions as func

from chat import (
    CONFIRM_DELAYS,
    ChatError,
    Confirm,
    Decision,
    Invocation,
    NotAllowed,
    Presence,
    Signal,
    Stamp,
    TryAgain,
    message_id,
    outputs,
    wait_for_state,
)
from chat.outputs import Item

__all__ = ["Entities", "carry_out", "refusals", "send", "settle", "stamp"]

log = logging.getLogger("chat")


class Entities:
    """The durable client, as the chat uses it."""

    def __init__(self, client: df.DurableOrchestrationClient) -> None:
        self.client = client

    async def read(self, entity: str, key: str) -> Any:
        """The entity's committed state, or None when it does not exist yet."""
        response = await self.client.read_entity_state(df.EntityId(entity, key))
        return response.entity_state if response.entity_exists else None

    async def signal(self, signals: Sequence[Signal]) -> None:
        await asyncio.gather(*(self.client.signal_entity(
            df.EntityId(s.entity, s.key), s.operation, dict(s.data)) for s in signals))

    async def confirm(self, confirm: Confirm) -> tuple[bool, Any]:
        """Read back after a signal (so not at once) until the change shows, bounded."""
        return await wait_for_state(lambda: self.read(confirm.entity, confirm.key),
                                    confirm.applied, asyncio.sleep, CONFIRM_DELAYS,
                                    check_first=False)


def send(out: func.Out[str], items: Sequence[Item]) -> None:
    value = outputs.encode(items)
    if value is not None:
        out.set(value)


async def carry_out(entities: Entities, decision: Decision, out: func.Out[str]) -> Any:
    """Signal, confirm (or raise TryAgain, sending nothing), set the output, return the result."""
    await entities.signal(decision.signals)
    if decision.confirm is not None:
        done, _ = await entities.confirm(decision.confirm)
        if not done:
            raise TryAgain(f"{decision.confirm.what} is taking longer than usual; please try "
                           f"again.")
    send(out, decision.items)
    return decision.result


async def settle(entities: Entities, decision: Decision, predicted: Presence) -> Presence:
    """A presence change signalled and read back; the prediction when the read-back times out."""
    await entities.signal(decision.signals)
    assert decision.confirm is not None
    done, state = await entities.confirm(decision.confirm)
    if done:
        return Presence.from_json(state)
    log.warning("%s: not confirmed within the wait; going on with the expected state",
                decision.confirm.what)
    return predicted


def stamp() -> Stamp:
    """A new message's id and server time."""
    now = time.time()
    return Stamp(id=message_id(now, uuid.uuid4().hex), now=now)


@contextlib.contextmanager
def refusals(call: Invocation) -> Iterator[None]:
    """Log a refused call (never its text) and let the error reach the caller."""
    try:
        yield
    except ChatError as error:
        level = logging.WARNING if isinstance(error, NotAllowed) else logging.INFO
        log.log(level, "refused %s from user %s (connection %s): %s: %s", call.event,
                call.user_id, call.connection_id, type(error).__name__, error)
        raise
