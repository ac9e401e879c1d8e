"""Read an entity back until a signalled change shows, within a bounded wait.

Durable entity signals are one-way: ``signal_entity`` returns once the operation is queued, and
``read_entity_state`` sees committed state only, so there is no read-your-writes
(docs/chat-app.md, "Durable entities"). A hub method whose effect the caller relies on as soon as
its ``invoke()`` completes (joining a group, then sending to it) signals, then polls with growing
delays until the change is visible. If it never shows within the bound the caller is told to try
again (:class:`~chat.errors.TryAgain`); the signal itself still runs later.

Pure: the reader and the sleep are passed in, so tests run it without a clock.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

__all__ = ["CONFIRM_DELAYS", "wait_for_state"]

CONFIRM_DELAYS: tuple[float, ...] = (0.01, 0.01, 0.02, 0.04, 0.08, 0.15, 0.25) + (0.5,) * 14
"""About 7.5 seconds in all: a few milliseconds for the local host, and seconds for an idle Azure
Storage task hub, while staying well inside the service's wait for the upstream call."""


async def wait_for_state(
    read: Callable[[], Awaitable[Any]],
    done: Callable[[Any], bool],
    sleep: Callable[[float], Awaitable[object]],
    delays: Sequence[float] = CONFIRM_DELAYS,
    *,
    check_first: bool = True,
) -> tuple[bool, Any]:
    """``(True, state)`` as soon as ``done(state)``; ``(False, last state)`` after the delays.

    ``check_first=False`` waits the first delay before reading: right after a signal the change
    cannot have run yet, so the first read would be wasted.
    """
    state: Any = None
    if check_first:
        state = await read()
        if done(state):
            return True, state
    for delay in delays:
        await sleep(delay)
        state = await read()
        if done(state):
            return True, state
    return False, state
