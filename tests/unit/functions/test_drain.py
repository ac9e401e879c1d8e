"""InFlight: what the host's stop waits for, and what it cancels after the grace."""

from __future__ import annotations

import asyncio

from emulator.functions.drain import InFlight
from tests.support.timeouts import TIMEOUT


async def test_finish_with_nothing_running_returns_at_once() -> None:
    assert await InFlight().finish(TIMEOUT) == 0


async def test_finish_waits_for_a_running_invocation_to_end() -> None:
    in_flight, release = InFlight(), asyncio.Event()

    async def invocation() -> str:
        with in_flight.running():
            await release.wait()
        return "done"

    task = asyncio.create_task(invocation())
    await asyncio.sleep(0)
    assert in_flight.count == 1
    finishing = asyncio.create_task(in_flight.finish(TIMEOUT))
    await asyncio.sleep(0)
    assert not finishing.done()
    release.set()
    assert await finishing == 0
    assert await task == "done"
    assert in_flight.count == 0


async def test_finish_cancels_what_still_runs_after_the_grace() -> None:
    in_flight = InFlight()

    async def stuck() -> None:
        with in_flight.running():
            await asyncio.Event().wait()

    task = asyncio.create_task(stuck())
    await asyncio.sleep(0)
    assert await in_flight.finish(0.01) == 1
    await asyncio.gather(task, return_exceptions=True)
    assert task.cancelled()
    assert in_flight.count == 0


async def test_finish_waits_for_an_invocation_that_starts_as_the_last_one_ends() -> None:
    """The host still serves while it drains: one that starts just after the idle moment gets
    the rest of the grace, not a cancel."""
    in_flight = InFlight()
    end_first, end_second = asyncio.Event(), asyncio.Event()

    async def invocation(end: asyncio.Event) -> str:
        with in_flight.running():
            await end.wait()
        return "done"

    first = asyncio.create_task(invocation(end_first))
    await asyncio.sleep(0)
    finishing = asyncio.create_task(in_flight.finish(TIMEOUT))
    await asyncio.sleep(0)
    end_first.set()  # the first ends, and in the same turn of the loop the second starts
    second = asyncio.create_task(invocation(end_second))
    assert await first == "done"
    for _ in range(5):  # the wake-up of finish() passes through a few loop turns
        await asyncio.sleep(0)
    assert not finishing.done()
    assert in_flight.count == 1
    end_second.set()
    assert await finishing == 0
    assert await second == "done"
