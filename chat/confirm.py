"""Read an entity back until a signalled change shows, within a bounded wait.

Durable entity signals are one-way: ``signal_entity`` returns once the operation is queued, and
``read_entity_state`` sees committed state only (durable-python.md §4 — no read-your-writes).
A hub method whose effect the caller relies on as soon as its ``invoke()`` completes (joining a
group, then sending to it) signals, then polls with growing delays until the change is visible.
If it never shows within the bound the caller gets an answer anyway and the miss is logged; the
signal itself still runs later.

Pure: the reader and the sleep are passed in, so tests run it without a clock.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

__all__ = ["CONFIRM_DELAYS", "wait_for_state"]

CONFIRM_DELAYS: tuple[float, ...] = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3) + (0.5,) * 18
"""About ten seconds in all: quick for the local host, patient enough for Azure Storage queues."""


async def wait_for_state(
    read: Callable[[], Awaitable[Any]],
    done: Callable[[Any], bool],
    sleep: Callable[[float], Awaitable[object]],
    delays: Sequence[float] = CONFIRM_DELAYS,
) -> tuple[bool, Any]:
    """``(True, state)`` as soon as ``done(state)``; ``(False, last state)`` after the delays."""
    state = await read()
    if done(state):
        return True, state
    for delay in delays:
        await sleep(delay)
        state = await read()
        if done(state):
            return True, state
    return False, state
