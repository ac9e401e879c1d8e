"""The model of the Azure Storage provider's queue pollers (emulator/functions/queue_polling.py).

With the random factor fixed at 1.0 the waits after empty polls are the provider's own:
50 ms + 2^(n-1) x 50 ms (100, 150, 250, 450 ms...) up to the maximum.
"""

from __future__ import annotations

import pytest

from emulator.functions.queue_polling import (
    MIN_INTERVAL,
    QueuePoller,
    TaskHubPollers,
    partition_of,
)


def middle() -> float:
    return 0.5  # the factor 0.8 + 0.4 x 0.5 = 1.0


def poller(max_interval: float = 30.0) -> QueuePoller:
    return QueuePoller(max_interval, start=0.0, random=middle)


def test_work_on_a_busy_queue_is_taken_at_once() -> None:
    queue = poller()
    assert queue.pickup(0.0) == 0.0
    assert queue.pickup(0.0) == 0.0, "work that arrives before a poll's end joins it"
    assert queue.pickup(0.01) == pytest.approx(0.0 + MIN_INTERVAL)


def test_the_wait_grows_while_the_queue_stays_empty() -> None:
    """Polls at 0 (empty: wait 50 ms), 0.05 (wait 100 ms), 0.15 (150 ms), 0.30 (250 ms),
    0.55 (450 ms), 1.0 ...: work arriving at 0.6 waits for the poll at 1.0."""
    assert poller().pickup(0.6) == pytest.approx(1.0)


def test_an_idle_queue_is_polled_every_max_interval() -> None:
    queue = poller(max_interval=30.0)
    first = queue.pickup(600.0)
    assert 600.0 <= first < 630.0
    # After finding work the poller is quick again, then slows down step by step.
    assert queue.pickup(first + 0.01) == pytest.approx(first + MIN_INTERVAL)
    late = queue.pickup(first + 3600.0)
    following = queue.pickup(late + 100.0)
    assert late - first > 3600.0 - 30.0 and following - late > 100.0 - 30.0


def test_the_wait_never_exceeds_the_maximum() -> None:
    queue = QueuePoller(2.0, start=0.0, random=lambda: 0.999)
    previous = 0.0
    for arrived in (0.5, 10.0, 100.0, 1000.0):
        picked = queue.pickup(arrived)
        assert arrived <= picked <= arrived + 2.0
        assert picked >= previous
        previous = picked


def test_a_maximum_below_the_minimum_is_the_minimum() -> None:
    queue = QueuePoller(0.0, start=0.0, random=middle)
    assert queue.pickup(1.0) - 1.0 <= MIN_INTERVAL


def test_partition_of_is_fnv1a_of_the_utf8_id() -> None:
    # Published FNV-1a 32-bit test vectors.
    assert partition_of("", 2**32) == 0x811C9DC5
    assert partition_of("a", 2**32) == 0xE40C292C
    assert partition_of("foobar", 2**32) == 0xBF9CF968
    assert {partition_of(f"@counter@{n}", 4) for n in range(40)} == {0, 1, 2, 3}


def test_each_control_queue_and_the_work_item_queue_poll_on_their_own() -> None:
    hub = TaskHubPollers(max_interval=30.0, partitions=4, start=0.0, random=middle)
    one, other = "@counter@a", next(f"@counter@{n}" for n in range(99)
                                    if partition_of(f"@counter@{n}", 4)
                                    != partition_of("@counter@a", 4))
    assert hub.control(one, 0.55) == pytest.approx(0.55)  # polls at 0 ... 0.55 found it
    assert hub.control(one, 0.6) == pytest.approx(0.55 + MIN_INTERVAL), "busy: polled again soon"
    assert hub.control(other, 0.6) == pytest.approx(1.0), "idle since 0: the poll at 1.0"
    assert hub.work_item(0.6) == pytest.approx(1.0)
