"""When the Azure Storage provider would pick up durable work: a model of its queue pollers, pure.

The provider reads each control queue (entity and orchestration messages, spread over
``partitionCount`` queues by a hash of the instance id) and the work-item queue (activities) by
polling. After a poll that finds nothing it waits longer and longer, up to
``maxQueuePollingInterval`` (30 s by default); a poll that finds work brings the wait back to
50 ms. So a message that reaches an idle task hub waits for the next poll, up to 30 s.
docs/durable.md ("Queue polling") has the numbers and their sources.

A message its own instance enqueues also wakes that instance's poller at once; this model leaves
that out, as if every message came from another instance (a scaled-out app, or the client on
another instance): the slow case an app must survive.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["MIN_INTERVAL", "QueuePoller", "TaskHubPollers", "partition_of"]

MIN_INTERVAL = 0.05
"""Seconds between polls of a busy queue."""
RANDOMIZATION = 0.2
"""Each step of the backoff is scaled by a random factor in [0.8, 1.2)."""


@dataclass
class QueuePoller:
    """One queue's poller, advanced lazily: it is only asked when work arrives.

    Times are seconds on any monotonic clock; the poller starts busy (as after a host start).
    """

    max_interval: float
    start: float
    random: Callable[[], float] = field(default=random.random)
    next_poll: float = field(init=False)
    """When the poller next looks at the queue."""
    last_hit: float = field(init=False)
    """When a poll last found work: work arriving before it was taken by that poll."""
    _wait: float = field(init=False, default=MIN_INTERVAL)
    _exponent: int = field(init=False, default=1)

    def __post_init__(self) -> None:
        self.max_interval = max(self.max_interval, MIN_INTERVAL)
        self.next_poll = self.start
        self.last_hit = float("-inf")

    def pickup(self, arrived: float) -> float:
        """When a message visible from ``arrived`` is picked up (``>= arrived``).

        Calls must come in the order of ``arrived``, as a queue sees its messages.
        """
        if arrived <= self.last_hit:
            return self.last_hit
        while self.next_poll < arrived:  # each of these polls found the queue empty
            self.next_poll += self._wait
            self._back_off()
        hit = self.next_poll
        self.last_hit = hit
        # Finding work resets the backoff: the poller looks again right away, then 50 ms on.
        self._wait, self._exponent = MIN_INTERVAL, 1
        self.next_poll = hit + MIN_INTERVAL
        self._back_off()
        return hit

    def _back_off(self) -> None:
        if self._wait >= self.max_interval:
            return
        factor = 1.0 - RANDOMIZATION + 2 * RANDOMIZATION * self.random()
        wait = MIN_INTERVAL + factor * 2 ** (self._exponent - 1) * MIN_INTERVAL
        if wait < self.max_interval:
            self._wait, self._exponent = wait, self._exponent + 1
        else:
            self._wait = self.max_interval


def partition_of(instance_id: str, partitions: int) -> int:
    """The control queue of an instance: 32-bit FNV-1a of its id's UTF-8, modulo the count."""
    value = 0x811C9DC5
    for byte in instance_id.encode("utf-8"):
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value % max(partitions, 1)


@dataclass
class TaskHubPollers:
    """The pollers of one task hub: one per control queue and one for the work-item queue."""

    max_interval: float
    partitions: int
    start: float
    random: Callable[[], float] = field(default=random.random)
    _control: dict[int, QueuePoller] = field(init=False, default_factory=dict)
    _work_items: QueuePoller = field(init=False)

    def __post_init__(self) -> None:
        self._work_items = self._poller()

    def _poller(self) -> QueuePoller:
        return QueuePoller(self.max_interval, self.start, self.random)

    def control(self, instance_id: str, arrived: float) -> float:
        """When a message for an entity or orchestration ``instance_id`` is picked up."""
        index = partition_of(instance_id, self.partitions)
        poller = self._control.get(index)
        if poller is None:
            poller = self._control[index] = self._poller()
        return poller.pickup(arrived)

    def work_item(self, arrived: float) -> float:
        """When an activity's message is picked up."""
        return self._work_items.pickup(arrived)
