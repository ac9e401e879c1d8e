"""The ``join-storm`` scenario: 1,000 people join at once while someone keeps chatting.

The whole stack (``python -m emulator``, the app's connection events on). The room first gets a
history (``SEED_MESSAGES`` chat-sized broadcasts). A bystander connects and broadcasts
``PROBE_RATE`` messages a second (a fast typist), timing each until it comes back to everyone,
itself included; the service runs one connection's calls one at a time, so a faster probe would
time its own queue. Then ``receivers`` users connect, evenly spread over ``duration`` seconds,
each through the app's negotiate, the service's negotiate and a WebSocket, and wait for their
``history`` and ``onlineUsers``. Then they all leave at once, and a fresh client checks that
presence settles on who is really there.

Reported: joins completed and their latency (handshake done to both messages received), the
bystander's round trip during the storm, the upstream ``connected``/``disconnected`` calls that
failed or timed out (from the stack's log), and how long presence took to settle after the
mass leave. Targets (:func:`storm_checks`): every join completes, no connection event fails,
the bystander's p99 stays under 250 ms.

``BENCH_APP_DIR`` runs another copy of the app (e.g. an older commit) for a before/after.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from .clients import Client, SignalRStackConnector
from .generator import measure
from .processes import ROOT, Server, start_server
from .wire import CODECS, make_tag

__all__ = ["SEED_MESSAGES", "run_join_storm", "storm_checks"]

SEED_MESSAGES = 100
PROBE_RATE = 2.0
CALM = 2.0
"""Seconds of the bystander alone, before the storm: its baseline."""
JOIN_TIMEOUT = 60.0
SETTLE_TIMEOUT = 60.0
BYSTANDER, SEEDER = 1_000_000, 1_000_001
"""Client indexes (user names ``user<index>``) outside the storm's range."""
FAILED_UPSTREAM = re.compile(r"upstream connections (connected|disconnected) .* failed")
FAILED_FUNCTION = re.compile(r"Executed 'Functions\.on_(connected|disconnected)' \(Failed")
UNLIMITED_SENDS = {"CHAT_SEND_RATE": "100000000", "CHAT_SEND_BURST": "100000000"}
"""The bystander sends 10 a second for the whole run; the app's per-user limit is lifted."""


def throughput_settings(folder: Path, app_dir: Path) -> Path:
    """The app's example settings with the per-user send limit lifted (a load test sends far
    more per user than a person can)."""
    settings = json.loads((app_dir / "local.settings.json.example").read_text(encoding="utf-8"))
    settings.setdefault("Values", {}).update(UNLIMITED_SENDS)
    path = folder / "local.settings.json"
    path.write_text(json.dumps(settings), encoding="utf-8")
    return path


@dataclass
class _Log:
    """Counts the stack's failed connection events as its output goes by."""

    upstream: dict[str, int] = field(default_factory=lambda: {"connected": 0, "disconnected": 0})
    functions: dict[str, int] = field(
        default_factory=lambda: {"connected": 0, "disconnected": 0})

    def feed(self, line: str) -> None:
        for pattern, counts in ((FAILED_UPSTREAM, self.upstream), (FAILED_FUNCTION,
                                                                    self.functions)):
            match = pattern.search(line)
            if match:
                counts[match.group(1)] += 1


async def _pump(server: Server, log: _Log) -> None:
    assert server.process.stdout is not None
    async for raw in server.process.stdout:
        line = raw.decode(errors="replace").rstrip()
        log.feed(line)
        server.output.append(line)
        del server.output[:-200]


@dataclass
class _Joiner:
    """One storm client: connected when its handshake is done, joined when it has both."""

    index: int
    ws: aiohttp.ClientWebSocketResponse | None = None
    handshake_at: float = 0.0
    joined_at: float = 0.0
    targets: set[str] = field(default_factory=set)
    users_listed: int = -1

    async def read(self, done: Callable[[], None]) -> None:
        assert self.ws is not None
        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            for record in message.data.split("\x1e"):
                if '"history"' in record or '"onlineUsers"' in record:
                    body = json.loads(record)
                    target = body.get("target")
                    self.targets.add(target)
                    if target == "onlineUsers":
                        self.users_listed = len(body["arguments"][0].get("users", []))
            if not self.joined_at and {"history", "onlineUsers"} <= self.targets:
                self.joined_at = time.perf_counter()
                done()


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": 0.0, "p99": 0.0, "max": 0.0}
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {"p50": at(0.5) * 1000, "p99": at(0.99) * 1000, "max": ordered[-1] * 1000}


async def _listed_after_leave(connector: SignalRStackConnector, session: aiohttp.ClientSession,
                              expected: int, started: float) -> tuple[float, int]:
    """Seconds until a new client's online list has ``expected`` users, and the last count."""
    count = -1
    for attempt in range(int(SETTLE_TIMEOUT)):
        joiner = _Joiner(2_000_000 + attempt)
        client = await connector.connect(session, joiner.index)
        joiner.ws = client.ws
        ready = asyncio.Event()
        reader = asyncio.ensure_future(joiner.read(ready.set))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ready.wait(), JOIN_TIMEOUT)
        count = joiner.users_listed
        reader.cancel()
        await client.ws.close()
        if count == expected:
            return time.perf_counter() - started, count
        await asyncio.sleep(1.0)
    return -1.0, count


async def run_join_storm(receivers: int, duration: float,
                         profile: str | None = None) -> dict[str, Any]:
    """The scenario, against a fresh stack; one flat dict of numbers (``profile``: py-spy)."""
    app_dir = Path(os.environ.get("BENCH_APP_DIR") or ROOT)
    codec = CODECS["signalr-json"]()
    log = _Log()
    with tempfile.TemporaryDirectory(prefix="bench-storm-") as data_dir:
        argv = ["-m", "emulator", "--app-dir", str(app_dir), "--bind", "127.0.0.1",
                "--service-port", "0", "--host-port", "0", "--data-dir", data_dir,
                "--log-level", "WARNING", "--no-reload",
                "--settings", str(throughput_settings(Path(data_dir), app_dir))]
        server = await start_server("stack", argv, "emulator ready:")
        assert server._pump is not None  # counted from here on, not only kept as a tail
        server._pump.cancel()
        server._pump = asyncio.ensure_future(_pump(server, log))
        connector = SignalRStackConnector(codec, host_url=server.urls[1])
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        try:
            return await _storm(server, session, connector, log, receivers, duration, profile)
        finally:
            await session.close()
            await server.stop()


async def _storm(server: Server, session: aiohttp.ClientSession,
                 connector: SignalRStackConnector, log: _Log, receivers: int,
                 duration: float, profile: str | None) -> dict[str, Any]:
    codec = connector.codec
    sent: dict[int, float] = {}
    round_trips: list[tuple[float, float]] = []  # (sent at, seconds)

    def on_tag(receiver: int, sender: int, seq: int, now: float) -> None:
        if receiver == BYSTANDER and sender == BYSTANDER and seq in sent:
            round_trips.append((sent[seq], now - sent.pop(seq)))

    seeder = await connector.connect(session, SEEDER)
    seeded = asyncio.Event()
    seen_seeds: set[int] = set()

    def on_seed(receiver: int, sender: int, seq: int, now: float) -> None:
        seen_seeds.add(seq)
        if len(seen_seeds) >= SEED_MESSAGES:
            seeded.set()

    seeder.on_tag = on_seed
    seeder.start()
    for seq in range(SEED_MESSAGES):
        await seeder.send(codec.message(make_tag(SEEDER, seq) + " a chat-sized message, as "
                                        "people write them, for the history"))
    await asyncio.wait_for(seeded.wait(), JOIN_TIMEOUT)
    await seeder.close()

    bystander = await connector.connect(session, BYSTANDER)
    bystander.on_tag = on_tag
    bystander.start()
    stop_probe = asyncio.Event()

    async def probe() -> None:
        seq = 0
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while not stop_probe.is_set():
            sent[seq] = time.perf_counter()
            await bystander.send(codec.message(make_tag(BYSTANDER, seq) + " still here"))
            seq += 1
            next_at += 1.0 / PROBE_RATE
            await asyncio.sleep(max(0.0, next_at - loop.time()))

    joiners = [_Joiner(i) for i in range(receivers)]
    clients: list[Client] = []
    readers: list[asyncio.Task[None]] = []
    failures: list[str] = []
    joined = asyncio.Event()
    remaining = [receivers]

    def one_joined() -> None:
        remaining[0] -= 1
        if remaining[0] == 0:
            joined.set()

    async def join(joiner: _Joiner, delay: float) -> None:
        await asyncio.sleep(delay)
        try:
            client = await connector.connect(session, joiner.index)
        except (aiohttp.ClientError, ConnectionError, TimeoutError) as exc:
            failures.append(f"{type(exc).__name__}: {exc}")
            one_joined()
            return
        joiner.ws, joiner.handshake_at = client.ws, time.perf_counter()
        clients.append(client)
        readers.append(asyncio.ensure_future(joiner.read(one_joined)))

    async def keep_alive() -> None:
        while not stop_probe.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop_probe.wait(), 10.0)
            for client in list(clients):
                with contextlib.suppress(Exception):
                    await client.send(codec.keepalive())

    probing = asyncio.ensure_future(probe())
    pinging = asyncio.ensure_future(keep_alive())
    await asyncio.sleep(CALM)  # the bystander's calm baseline
    calm = [rtt for _, rtt in round_trips]
    storm_start = time.perf_counter()
    async with measure(server.pid, profile) as usage:
        spread = [asyncio.ensure_future(join(j, duration * i / receivers))
                  for i, j in enumerate(joiners)]
        await asyncio.gather(*spread)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(joined.wait(), JOIN_TIMEOUT)
        storm_end = time.perf_counter()
    await asyncio.sleep(1.0)
    stop_probe.set()
    await asyncio.gather(probing, pinging, return_exceptions=True)
    during = [rtt for at, rtt in round_trips if storm_start <= at <= storm_end]
    done = [j for j in joiners if j.joined_at]
    join_times = [j.joined_at - j.handshake_at for j in done]

    leave_start = time.perf_counter()
    for reader in readers:
        reader.cancel()
    await asyncio.gather(*(c.ws.close() for c in clients), return_exceptions=True)
    # Presence should settle on the bystander and the checking client itself.
    settled_s, listed = await _listed_after_leave(connector, session, 2, leave_start)
    await bystander.close()
    await asyncio.sleep(1.0)  # the last disconnected calls show in the log
    rtt, joins, calm_rtt = _percentiles(during), _percentiles(join_times), _percentiles(calm)
    return {
        "scenario": "join-storm", "target": "signalr", "receivers": receivers,
        "spread_s": duration, "connect_failures": len(failures),
        "handshakes": len(clients), "joined": len(done), "timeouts": receivers - len(done),
        "storm_s": storm_end - storm_start,
        "join_p50_ms": joins["p50"], "join_p99_ms": joins["p99"], "join_max_ms": joins["max"],
        "bystander_samples": len(during), "bystander_lost": len(sent),
        "bystander_calm_p50_ms": calm_rtt["p50"],
        "bystander_p50_ms": rtt["p50"], "bystander_p99_ms": rtt["p99"],
        "bystander_max_ms": rtt["max"],
        "p50_ms": rtt["p50"], "p99_ms": rtt["p99"], "max_ms": rtt["max"],
        "upstream_connected_failed": log.upstream["connected"],
        "upstream_disconnected_failed": log.upstream["disconnected"],
        "functions_connected_failed": log.functions["connected"],
        "functions_disconnected_failed": log.functions["disconnected"],
        "presence_settled_s": settled_s, "presence_listed_after_leave": listed,
        "server_cpu_s": usage.server_cpu, "generator_cpu_s": usage.generator_cpu,
        "wall_s": usage.wall, "server_rss_mb": server.stats().rss_bytes / 2**20,
        "lost": len(sent), "duplicates": 0,
        "first_failures": failures[:3],
    }


def storm_checks(results: list[dict[str, Any]]) -> list[str]:
    """The join storm's targets, one line per run."""
    lines = []
    for r in results:
        if r.get("scenario") != "join-storm":
            continue
        failed = sum(r[k] for k in ("upstream_connected_failed", "upstream_disconnected_failed",
                                    "functions_connected_failed",
                                    "functions_disconnected_failed"))
        checks = [
            (f"{r['joined']}/{r['receivers']} joined", r["joined"] == r["receivers"]),
            (f"{failed} connection events failed", failed == 0),
            (f"bystander p99 {r['bystander_p99_ms']:.0f} ms", r["bystander_p99_ms"] < 250),
        ]
        verdict = "MET" if all(ok for _, ok in checks) else "NOT MET"
        lines.append(f"join storm: {', '.join(text for text, _ in checks)} -> {verdict} "
                     f"(targets: all joined, none failed, p99 < 250 ms)")
    return lines
