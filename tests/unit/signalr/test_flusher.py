"""The service's flusher: a connection written a moment ago waits out the coalescing window,
one written to now and then is written at the next turn of the loop."""

from __future__ import annotations

import asyncio
import math

from emulator.signalr.session import Flusher
from tests.support.timeouts import TIMEOUT


class Recorded:
    """Stands for a transport attachment: records when it was flushed."""

    def __init__(self, flushed_at: float = -math.inf) -> None:
        self.flushed_at = flushed_at
        self.flushes: list[float] = []
        self.flushed = asyncio.Event()

    def flush(self) -> None:
        self.flushes.append(asyncio.get_running_loop().time())
        self.flushed.set()


async def test_a_connection_not_written_lately_is_written_at_the_next_turn() -> None:
    flusher = Flusher(coalesce=0.004)
    quiet = Recorded()
    flusher.add(quiet)
    assert quiet.flushes == []  # not within add: the rest of this turn may add to it
    await asyncio.sleep(0)
    assert len(quiet.flushes) == 1


async def test_a_connection_written_a_moment_ago_waits_out_the_window() -> None:
    written = asyncio.get_running_loop().time()
    flusher = Flusher(coalesce=0.004)
    busy, quiet = Recorded(flushed_at=written), Recorded()
    flusher.add(busy)
    flusher.add(quiet)
    await asyncio.sleep(0)
    assert len(quiet.flushes) == 1 and busy.flushes == []
    await asyncio.wait_for(busy.flushed.wait(), TIMEOUT)
    assert busy.flushes[0] >= written + 0.004


async def test_the_time_of_each_flush_is_kept_for_the_next() -> None:
    flusher = Flusher(coalesce=3600.0)
    connection = Recorded()
    flusher.add(connection)
    await asyncio.sleep(0)
    assert connection.flushed_at <= connection.flushes[0]
    flusher.add(connection)  # within the hour: it waits
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert len(connection.flushes) == 1
