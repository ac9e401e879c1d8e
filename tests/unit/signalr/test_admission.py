"""Admission of ``connected`` calls: a few at a time, in order, none held up for long."""

from __future__ import annotations

import asyncio

from emulator.signalr.admission import Admission

TIMEOUT = 5.0


async def _holder(admission: Admission, started: asyncio.Event, finish: asyncio.Event,
                  order: list[int], n: int) -> None:
    async with admission.turn():
        order.append(n)
        started.set()
        await finish.wait()


async def _turns(count: int = 20) -> None:
    for _ in range(count):
        await asyncio.sleep(0)


async def test_at_most_the_limit_hold_a_place_and_the_next_go_in_order() -> None:
    admission = Admission(2, hold=60.0)
    order: list[int] = []
    started = [asyncio.Event() for _ in range(4)]
    finish = [asyncio.Event() for _ in range(4)]
    tasks = [asyncio.ensure_future(_holder(admission, started[n], finish[n], order, n))
             for n in range(4)]
    await asyncio.wait_for(started[1].wait(), TIMEOUT)
    await _turns()
    assert order == [0, 1], "the third waits while two hold a place"
    finish[1].set()
    await asyncio.wait_for(started[2].wait(), TIMEOUT)
    await _turns()
    assert order == [0, 1, 2]
    for event in finish:
        event.set()
    await asyncio.wait_for(asyncio.gather(*tasks), TIMEOUT)
    assert order == [0, 1, 2, 3]


async def test_a_holder_that_takes_too_long_lets_the_next_start() -> None:
    admission = Admission(1, hold=0.05)
    order: list[int] = []
    started = [asyncio.Event() for _ in range(3)]
    never = asyncio.Event()
    tasks = [asyncio.ensure_future(_holder(admission, started[n], never, order, n))
             for n in range(3)]
    await asyncio.wait_for(started[2].wait(), TIMEOUT)  # each after the one before it expired
    assert order == [0, 1, 2]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_cancelled_holder_gives_its_place_back() -> None:
    admission = Admission(1, hold=60.0)
    order: list[int] = []
    started = [asyncio.Event() for _ in range(2)]
    never = asyncio.Event()
    first = asyncio.ensure_future(_holder(admission, started[0], never, order, 0))
    second = asyncio.ensure_future(_holder(admission, started[1], never, order, 1))
    await asyncio.wait_for(started[0].wait(), TIMEOUT)
    await _turns()
    assert order == [0]
    first.cancel()
    await asyncio.wait_for(started[1].wait(), TIMEOUT)
    second.cancel()
    await asyncio.gather(first, second, return_exceptions=True)
