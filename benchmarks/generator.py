"""The load generator: connect clients, send tagged messages, count what arrives, and when.

Three ways to send, shared by every target:

- :func:`send_windowed`: as fast as the system takes it, with at most ``window`` messages not yet
  delivered to every counted receiver (fan-out and REST scenarios);
- :func:`send_at_rate`: one sender on a fixed schedule (the latency scenario);
- :func:`send_talkers`: every client sends once per ``interval``, phases spread evenly.

Every run is bounded: a duration, a message cap, a stall timeout and a drain timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from array import array
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from .clients import Client, Connector
from .processes import ProcessStats, read_stats

__all__ = [
    "Measurement",
    "Tracker",
    "close_all",
    "connect_all",
    "drain",
    "keep_alive",
    "measure",
    "send_at_rate",
    "send_talkers",
    "send_windowed",
    "settle",
]


@dataclass
class _Pending:
    sent: float
    seen: set[int] = field(default_factory=set)


class Tracker:
    """Which counted receiver got which message, latencies, duplicates and losses."""

    def __init__(self, counted: Iterable[int]) -> None:
        self.counted = frozenset(counted)
        self.expected_per_message = len(self.counted)
        self.pending: dict[tuple[int, int], _Pending] = {}
        self.done: set[tuple[int, int]] = set()
        self.latencies = array("d")
        self.sent = 0
        self.delivered = 0
        self.duplicates = 0
        self.unexpected = 0
        self.first_send = 0.0
        self.last_delivery = 0.0
        self.window: asyncio.Semaphore | None = None
        self.idle = asyncio.Event()
        self.idle.set()

    def expect(self, sender: int, seq: int) -> None:
        """Call just before sending ``(sender, seq)``."""
        now = time.perf_counter()
        if not self.sent:
            self.first_send = now
        self.sent += 1
        self.pending[(sender, seq)] = _Pending(now)
        self.idle.clear()

    def on_tag(self, receiver: int, sender: int, seq: int, now: float) -> None:
        if receiver not in self.counted:
            return
        key = (sender, seq)
        entry = self.pending.get(key)
        if entry is None:
            if key in self.done:
                self.duplicates += 1
            else:
                self.unexpected += 1
            return
        if receiver in entry.seen:
            self.duplicates += 1
            return
        entry.seen.add(receiver)
        self.delivered += 1
        self.latencies.append(now - entry.sent)
        self.last_delivery = now
        if len(entry.seen) == self.expected_per_message:
            del self.pending[key]
            self.done.add(key)
            if self.window is not None:
                self.window.release()
            if not self.pending:
                self.idle.set()

    @property
    def lost(self) -> int:
        return sum(self.expected_per_message - len(p.seen) for p in self.pending.values())

    def percentiles_ms(self) -> dict[str, float]:
        values = sorted(self.latencies)
        if not values:
            return {"p50_ms": 0.0, "p90_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0}

        def at(q: float) -> float:
            return values[min(len(values) - 1, int(q * len(values)))] * 1000

        return {"p50_ms": at(0.5), "p90_ms": at(0.9), "p99_ms": at(0.99),
                "max_ms": values[-1] * 1000}


async def connect_all(connector: Connector, session: aiohttp.ClientSession,
                      indexes: Sequence[int], *, concurrency: int = 32,
                      on_tag: Callable[[int, int, int, float], None] | None = None,
                      into: list[Client] | None = None) -> list[Client]:
    """Connect a client per index, ``concurrency`` at a time; each starts reading at once.

    ``into``: the list to add clients to as they connect (a keep-alive loop may watch it).
    """
    gate = asyncio.Semaphore(concurrency)
    clients: list[Client] = [] if into is None else into

    async def one(index: int) -> None:
        async with gate:
            client = await connector.connect(session, index)
        client.on_tag = on_tag
        client.start()
        clients.append(client)

    try:
        await asyncio.gather(*(one(i) for i in indexes))
    except BaseException:
        await close_all(clients)
        raise
    clients.sort(key=lambda c: c.index)
    return clients


@contextlib.asynccontextmanager
async def keep_alive(clients: Sequence[Client], frame: bytes | None,
                     every: float = 10.0) -> AsyncIterator[None]:
    """Send ``frame`` to every client now and then, as real clients ping an idle server
    (the SignalR service drops a client silent for 30 s)."""
    stop = asyncio.Event()

    async def loop() -> None:
        while frame is not None and not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)
            for client in list(clients):
                if stop.is_set():
                    return
                with contextlib.suppress(Exception):
                    await client.send(frame)

    task = asyncio.ensure_future(loop())
    try:
        yield
    finally:
        stop.set()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def close_all(clients: Iterable[Client]) -> None:
    await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)


async def settle(clients: Sequence[Client], *, quiet: float = 0.5, limit: float = 60.0) -> None:
    """Wait until no client has received a frame for ``quiet`` seconds (at most ``limit``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while loop.time() < deadline:
        latest = max((c.last_frame for c in clients), default=0.0)
        idle = time.perf_counter() - latest
        if idle >= quiet:
            return
        await asyncio.sleep(quiet - idle)


async def send_windowed(tracker: Tracker, send: Callable[[int], Awaitable[None]], *,
                        duration: float, max_messages: int, window: int, senders: int = 1,
                        stall: float = 5.0) -> None:
    """Send ``(0, seq)`` messages until ``duration`` or ``max_messages``; ``senders`` tasks."""
    tracker.window = asyncio.Semaphore(window)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + duration
    counter = iter(range(max_messages))

    async def sender() -> None:
        assert tracker.window is not None
        while loop.time() < deadline:
            try:
                await asyncio.wait_for(tracker.window.acquire(), stall)
            except TimeoutError:
                return  # nothing completes any more: saturated or losing; the drain tells
            seq = next(counter, None)
            if seq is None:
                return
            tracker.expect(0, seq)
            await send(seq)

    await asyncio.gather(*(sender() for _ in range(senders)))


async def send_at_rate(tracker: Tracker, send: Callable[[int], Awaitable[None]], *,
                       rate: float, duration: float) -> None:
    """One message every ``1 / rate`` seconds on a fixed schedule (no catch-up bursts)."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    for seq in range(int(rate * duration)):
        delay = start + seq / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tracker.expect(0, seq)
        await send(seq)


async def send_talkers(tracker: Tracker, clients: Sequence[Client],
                       frame: Callable[[int, int], bytes], *, interval: float,
                       duration: float) -> None:
    """Each client sends one message per ``interval``; client i starts at ``i/len * interval``."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    rounds = int(duration / interval)

    async def talk(position: int, client: Client) -> None:
        offset = position / len(clients) * interval
        for seq in range(rounds):
            delay = start + offset + seq * interval - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tracker.expect(client.index, seq)
            await client.send(frame(client.index, seq))

    await asyncio.gather(*(talk(p, c) for p, c in enumerate(clients)))


@dataclass
class Measurement:
    """Server and generator CPU over a phase, and the server's RSS at its end."""

    server_pid: int
    before: ProcessStats | None = None
    after: ProcessStats | None = None
    generator_before: ProcessStats | None = None
    generator_after: ProcessStats | None = None
    wall: float = 0.0

    @property
    def server_cpu(self) -> float:
        assert self.before and self.after
        return self.after.cpu_seconds - self.before.cpu_seconds

    @property
    def generator_cpu(self) -> float:
        assert self.generator_before and self.generator_after
        return self.generator_after.cpu_seconds - self.generator_before.cpu_seconds


@contextlib.asynccontextmanager
async def measure(server_pid: int, profile: str | None = None) -> AsyncIterator[Measurement]:
    """``async with measure(pid) as m:`` CPU deltas of the server and of this process.

    With ``profile`` (a file name), py-spy samples the server meanwhile and writes collapsed
    stacks there (``--format raw``; flamegraph.pl or speedscope read them).
    """
    spy: asyncio.subprocess.Process | None = None
    if profile:
        spy = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(server_pid),
            "--rate", "250", "--format", "raw", "--nonblocking", "--output", profile,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        await asyncio.sleep(0.5)  # py-spy attaches
    m = Measurement(server_pid)
    me = os.getpid()  # the servers are our children: leave them out of our own CPU
    m.before, m.generator_before = read_stats(server_pid), read_stats(me, descendants=False)
    started = time.perf_counter()
    try:
        yield m
    finally:
        m.wall = time.perf_counter() - started
        m.after, m.generator_after = read_stats(server_pid), read_stats(me, descendants=False)
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            await asyncio.wait_for(spy.wait(), 30)


async def drain(tracker: Tracker, timeout: float) -> None:
    """Wait until every sent message reached every counted receiver, or ``timeout``."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(tracker.idle.wait(), timeout)
