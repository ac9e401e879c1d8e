"""Stopping the host without stranding the work it runs.

A function running when the host stops may still need the host: the Durable client's calls
(signal an entity, start an orchestration, read a state) go to the host's own Durable HTTP API.
So the host stops in two steps. First, while it still listens and answers every request, it
stops its timers and waits up to ``DRAIN_GRACE`` seconds for the trigger invocations in flight
(HTTP functions, SignalR triggers, timer runs), and cancels those still running then. Then it
closes its sites and releases the rest. A trigger request it reads after the first step (one
already on its way as the sites close) starts no function: its connection is closed without an
answer, so the caller sends it again, to the host that starts next when this is a restart
(the SignalR service does, as .NET's HTTP client does for a kept-alive connection closed under a
request). A function started then would find its own host gone for its Durable calls.

The first step is an ``on_shutdown`` hook, so :func:`emulator.serve.stop_runner` (shutdown
while the sites listen, then cleanup) gets the whole order. A plain ``runner.cleanup()`` runs
the same hook after the sites closed: invocations still finish, but a call they make to the
host is refused.

Azure lets running functions finish when an instance shuts down, within a grace period
(minutes; "Function app timeout duration", https://learn.microsoft.com/azure/azure-functions/
functions-scale#timeout). Locally the grace is seconds: a developer pressing Ctrl-C wants the
prompt back.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

__all__ = ["DRAIN_GRACE", "InFlight"]

DRAIN_GRACE = 5.0
"""Seconds stopping waits for the trigger invocations in flight."""


class InFlight:
    """The trigger invocations running now (their tasks), so that stopping can wait for them."""

    def __init__(self) -> None:
        self.stopping = False
        """Set once the host began to stop (its shutdown hook runs once)."""
        self.drained = False
        """Set once the invocations in flight have finished: the host starts no more."""
        self._tasks: set[asyncio.Task[object]] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def count(self) -> int:
        return len(self._tasks)

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        """Around one invocation, from its trigger to its outputs sent, in its own task."""
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._idle.clear()
        try:
            yield
        finally:
            self._tasks.discard(task)
            if not self._tasks:
                self._idle.set()

    async def finish(self, grace: float) -> int:
        """Wait until none runs, at most ``grace`` seconds; cancel those still running then
        and return how many they were. The host still serves meanwhile, so an invocation may
        start after the last one ended and before this wakes: it gets the rest of the grace."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        while self._tasks and (left := deadline - loop.time()) > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), left)
        late = list(self._tasks)
        for task in late:
            task.cancel()
        return len(late)
