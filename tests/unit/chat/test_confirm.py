"""Read-back with a bounded wait, driven without a clock."""

from __future__ import annotations

from chat import wait_for_state


class Reader:
    def __init__(self, ready_after: int) -> None:
        self.reads = 0
        self.ready_after = ready_after
        self.slept: list[float] = []

    async def read(self) -> int:
        self.reads += 1
        return self.reads

    async def sleep(self, delay: float) -> None:
        self.slept.append(delay)


async def test_wait_for_state_returns_at_once_when_already_done() -> None:
    reader = Reader(1)
    assert await wait_for_state(reader.read, lambda n: n >= 1, reader.sleep) == (True, 1)
    assert reader.slept == []


async def test_wait_for_state_polls_with_the_given_delays_until_done() -> None:
    reader = Reader(3)
    done = await wait_for_state(reader.read, lambda n: n >= 3, reader.sleep, delays=(1, 2, 4, 8))
    assert done == (True, 3)
    assert reader.slept == [1, 2]


async def test_wait_for_state_gives_up_after_the_last_delay() -> None:
    reader = Reader(99)
    done = await wait_for_state(reader.read, lambda n: n >= 99, reader.sleep, delays=(1, 2))
    assert done == (False, 3)
    assert reader.slept == [1, 2]


async def test_wait_for_state_after_a_signal_waits_before_the_first_read() -> None:
    reader = Reader(1)
    done = await wait_for_state(reader.read, lambda n: n >= 1, reader.sleep, delays=(5, 6),
                                check_first=False)
    assert done == (True, 1)
    assert reader.slept == [5]
