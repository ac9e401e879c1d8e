"""How many ``connected`` calls go to the upstream at once (benchmarks/RESULTS.md, "Join storm").

When a crowd connects at once, every new connection's ``connected`` call runs the app's connect
function in the same process as everything else; started all together they fill every turn of
the event loop, and the messages of the people already chatting wait behind them. Admitting a
few at a time keeps the turns short. A call holds its place for at most ``hold`` seconds: a slow
or hung upstream (which costs the process nothing while it waits) then delays the queue by that
much, not by its timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

__all__ = ["Admission"]


class Admission:
    """At most ``limit`` holders at a time, each for at most ``hold`` seconds; others wait in
    the order they came."""

    def __init__(self, limit: int, hold: float) -> None:
        self._places = asyncio.Semaphore(limit)
        self._hold = hold

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        await self._places.acquire()
        held = True

        def release() -> None:
            nonlocal held
            if held:
                held = False
                self._places.release()

        expiry = asyncio.get_running_loop().call_later(self._hold, release)
        try:
            yield
        finally:
            expiry.cancel()
            release()
