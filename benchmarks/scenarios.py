"""The benchmark scenarios (benchmarks/README.md, "Scenarios"), each run against each target in a
fresh server process.

Targets: ``signalr`` (the stack end to end for client-sent messages; the service alone for the
REST and capacity scenarios), ``socketio`` (python-socketio) and ``aiohttp`` (plain broadcast).
A scenario returns one flat dict: the numbers the report prints and RESULTS.md quotes.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import aiohttp

from emulator.signalr import DEFAULT_ACCESS_KEY

from .clients import (
    HUB,
    Client,
    Connector,
    Poster,
    RawConnector,
    SignalRServiceConnector,
    SignalRStackConnector,
    SocketIOConnector,
)
from .generator import (
    Tracker,
    close_all,
    connect_all,
    drain,
    keep_alive,
    measure,
    send_at_rate,
    send_talkers,
    send_windowed,
    settle,
)
from .join_storm import run_join_storm, throughput_settings
from .processes import ROOT, Server, free_loopback_port, start_server
from .servers.serve import READY_PREFIX
from .wire import CODECS, make_tag

__all__ = ["DEFAULT_SET", "REPEATS", "SCENARIOS", "SPLIT", "TARGETS", "Scenario", "message_text",
           "run_scenario", "targets_of"]

TARGETS = ("signalr", "socketio", "aiohttp")
SPLIT = "signalr-split"
"""The stack as two processes (``servers/split_stack.py``): run only when ``--targets`` names it,
in the scenarios whose messages clients send."""
SPLIT_KINDS = ("fanout", "rate", "talkers", "connect")


def targets_of(scenario: Scenario, wanted: list[str]) -> list[str]:
    """The targets a run of ``scenario`` covers: its own, the opt-in split stack if named, and
    only those in ``wanted`` when it is not empty."""
    targets = [*scenario.targets, *((SPLIT,) if SPLIT in wanted and scenario.kind in SPLIT_KINDS
                                    else ())]
    return [t for t in targets if not wanted or t in wanted]
FILLER = " the quick brown fox jumps over the lazy dog 0123456789"


def message_text(sender: int, seq: int) -> str:
    """A chat-sized text (about 70 characters) that carries the tag."""
    return make_tag(sender, seq) + FILLER


@dataclass(frozen=True)
class Scenario:
    name: str
    kind: str  # fanout | rate | talkers | rest | capacity
    receivers: int
    duration: float = 6.0
    window: int = 32
    rate: float = 100.0
    max_messages: int = 200_000
    senders: int = 1
    """Fan-out: client connections the messages are sent from, in turn (not counted)."""
    codec: str = "signalr-json"
    """The hub protocol the SignalR clients speak."""
    targets: tuple[str, ...] = TARGETS
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def scaled(self, factor: float) -> Scenario:
        """A shorter, smaller copy (the smoke test)."""
        return replace(self, duration=max(0.5, self.duration * factor),
                       receivers=max(2, int(self.receivers * factor)))


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("fanout-100", "fanout", 100, description="one sender, 100 receivers, window 32"),
    Scenario("fanout-1000", "fanout", 1000, description="one sender, 1,000 receivers, window 32"),
    Scenario("fanout-100-8senders", "fanout", 100, senders=8,
             description="fan-out 100, messages sent from 8 connections in turn, window 32"),
    Scenario("fanout-100-msgpack", "fanout", 100, codec="signalr-msgpack", targets=("signalr",),
             description="fan-out 100 with MessagePack clients"),
    Scenario("latency", "rate", 100, rate=100.0,
             description="100 receivers, one sender at a fixed 100 messages/s"),
    Scenario("latency-25", "rate", 100, rate=25.0, targets=("signalr", "aiohttp"),
             description="as latency, at 25 messages/s: the round trip with little queueing"),
    Scenario("latency-50", "rate", 100, rate=50.0, targets=("signalr", "aiohttp"),
             description="as latency, at 50 messages/s"),
    Scenario("talkers", "talkers", 100,
             description="100 clients, each sends 1 message/s to everyone"),
    Scenario("rest", "rest", 100, window=32,
             description="HTTP POST broadcasts (the output binding's call) to 100 receivers"),
    Scenario("rest-latency", "rest-rate", 100, rate=100.0,
             description="HTTP POST broadcasts at a fixed 100/s to 100 receivers"),
    Scenario("capacity", "capacity", 5000, description="5,000 idle connections"),
    Scenario("capacity-15000", "capacity", 15_000, targets=("signalr", "aiohttp"),
             description="15,000 idle connections, one broadcast to all"),
    Scenario("connect", "connect", 100,
             description="100 clients connect through the whole path, connection events on"),
    Scenario("join-storm", "join-storm", 1000, duration=10.0, targets=("signalr",),
             description="1,000 users join within 10 s while a bystander chats (join_storm.py)"),
)}
DEFAULT_SET = (
    "fanout-100", "fanout-100-8senders", "fanout-1000", "latency", "latency-25", "talkers",
    "rest", "rest-latency", "capacity", "connect", "capacity-15000", "join-storm",
)
REPEATS = {"fanout-100-8senders": 3, "latency": 5, "rest-latency": 3}
"""Runs of a scenario in the default set: its target must hold in every run."""


@dataclass
class Deployed:
    server: Server
    connector: Connector
    poster: Poster | None


FULL_UPSTREAM = ("connect", "talkers")
"""Scenarios whose stack forwards connection events too. Every talker sends, and the app
registers a connection it has not seen connect when it first sends (a late registration, with
the history it missed): with ``connected`` forwarded that happens at connect, as in real use,
and the measured phase is the steady chat."""


def _messages_only_upstream(folder: Path) -> list[str]:
    """Flags for a stack whose service forwards only ``messages`` events upstream.

    The traffic scenarios measure messages. The app's ``connected`` handler updates presence in
    a Durable entity and reads it back, about 0.3 s per connection here, which would make the
    set-up of 1,000 receivers take minutes; the ``connect`` scenario measures that path instead.
    The rule names the host's port, so the port is chosen here (free a moment ago, loopback).
    """
    port = free_loopback_port()
    settings = folder / "service-settings.json"
    settings.write_text(json.dumps({"UpstreamSettings": {"Templates": [{
        "UrlTemplate": f"http://127.0.0.1:{port}/runtime/webhooks/signalr",
        "HubPattern": "*", "CategoryPattern": "messages", "EventPattern": "*"}]}}),
        encoding="utf-8")
    return ["--host-port", str(port), "--service-settings", str(settings)]


@contextlib.asynccontextmanager
async def deploy(target: str, scenario: Scenario) -> AsyncIterator[Deployed]:
    """Start a fresh server for one run and say how clients and posters reach it."""
    service_only = scenario.kind in ("rest", "rest-rate", "capacity")
    codec_name = {"socketio": "socketio", "aiohttp": "raw"}.get(target, scenario.codec)
    codec = CODECS[codec_name]()
    with tempfile.TemporaryDirectory(prefix="bench-") as data_dir:
        server: Server
        connector: Connector
        poster: Poster | None = None
        if target in ("signalr", SPLIT) and not service_only:
            settings = str(throughput_settings(Path(data_dir), ROOT))
            if target == SPLIT:
                argv = ["-m", "benchmarks.servers.split_stack", "--data-dir", data_dir,
                        "--settings", settings]
            else:
                argv = ["-m", "emulator", "--bind", "127.0.0.1", "--service-port", "0",
                        "--data-dir", data_dir, "--log-level", "WARNING", "--settings", settings,
                        "--no-reload"]  # a file saved meanwhile must not restart the host
            if scenario.kind in FULL_UPSTREAM:
                argv += ["--host-port", "0"]
            else:
                argv += _messages_only_upstream(Path(data_dir))
            ready = "split stack ready:" if target == SPLIT else "emulator ready:"
            server = await start_server("stack", argv, ready)
            connector = SignalRStackConnector(codec, host_url=server.urls[1])
            poster = Poster(f"{server.urls[0]}/api/hubs/{HUB}/:send?api-version=2022-06-01",
                            access_key=DEFAULT_ACCESS_KEY)
        elif target == "signalr":
            server = await start_server("service", ["-m", "benchmarks.servers.signalr_service"],
                                        READY_PREFIX)
            url = server.urls[0]
            connector = SignalRServiceConnector(codec, service_url=url,
                                                access_key=DEFAULT_ACCESS_KEY)
            poster = Poster(f"{url}/api/hubs/{HUB}/:send?api-version=2022-06-01",
                            access_key=DEFAULT_ACCESS_KEY)
        else:
            module = {"socketio": "socketio_chat", "aiohttp": "ws_broadcast"}[target]
            server = await start_server(target, ["-m", f"benchmarks.servers.{module}"],
                                        READY_PREFIX)
            url = server.urls[0]
            if target == "socketio":
                connector = SocketIOConnector(codec, url)
            else:
                connector = RawConnector(codec, url)
            poster = Poster(f"{url}/broadcast")
        try:
            yield Deployed(server, connector, poster)
        finally:
            await server.stop()


def _summary(scenario: Scenario, target: str, tracker: Tracker, m: Any,
             rss: int) -> dict[str, Any]:
    span = max(tracker.last_delivery - tracker.first_send, 1e-9)
    delivered = tracker.delivered
    return {
        "scenario": scenario.name, "target": target, "receivers": scenario.receivers,
        "sent": tracker.sent, "expected": tracker.sent * tracker.expected_per_message,
        "delivered": delivered, "lost": tracker.lost, "duplicates": tracker.duplicates,
        "unexpected": tracker.unexpected,
        "deliveries_per_s": delivered / span if delivered else 0.0,
        "messages_per_s": tracker.sent / span if delivered else 0.0,
        **tracker.percentiles_ms(),
        "server_cpu_s": m.server_cpu, "generator_cpu_s": m.generator_cpu, "wall_s": m.wall,
        "cpu_us_per_delivery": m.server_cpu / delivered * 1e6 if delivered else 0.0,
        "server_rss_mb": rss / 2**20,
    }


async def _run_traffic(scenario: Scenario, target: str, deployed: Deployed,
                       session: aiohttp.ClientSession, profile: str | None) -> dict[str, Any]:
    kind, n = scenario.kind, scenario.receivers
    codec = deployed.connector.codec
    talkers = kind == "talkers"
    senders = 0 if talkers else scenario.senders
    indexes = list(range(n + senders))
    counted = indexes[senders:]
    tracker = Tracker(counted)
    clients: list[Client] = []
    try:
        async with keep_alive(clients, codec.keepalive()):
            await connect_all(deployed.connector, session, indexes, on_tag=tracker.on_tag,
                              into=clients)
            await settle(clients)  # the app's connection events, pings...
            async def send_ws(seq: int) -> None:
                # Several senders: each message from the next connection in turn.
                sender = clients[seq % senders] if senders > 1 else clients[0]
                await sender.send(codec.message(message_text(0, seq)))

            async def send_http(seq: int) -> None:
                assert deployed.poster is not None
                await deployed.poster.post(session, message_text(0, seq))

            frames_before = sum(c.frames for c in clients)
            async with measure(deployed.server.pid, profile) as m:
                if kind == "fanout":
                    await send_windowed(tracker, send_ws, duration=scenario.duration,
                                        max_messages=scenario.max_messages,
                                        window=scenario.window)
                elif kind == "rest":
                    await send_windowed(tracker, send_http, duration=scenario.duration,
                                        max_messages=scenario.max_messages,
                                        window=scenario.window, senders=8)
                elif kind in ("rate", "rest-rate"):
                    send: Callable[[int], Any] = send_ws if kind == "rate" else send_http
                    await send_at_rate(tracker, send, rate=scenario.rate,
                                       duration=scenario.duration)
                elif talkers:
                    await send_talkers(tracker, clients,
                                       lambda i, seq: codec.message(message_text(i, seq)),
                                       interval=1.0, duration=scenario.duration)
                await drain(tracker, timeout=5.0)
            result = _summary(scenario, target, tracker, m, deployed.server.stats().rss_bytes)
            frames = sum(c.frames for c in clients) - frames_before
            result["frames_per_delivery"] = frames / tracker.delivered if tracker.delivered else 0
            return result
    finally:
        await close_all(clients)


async def _run_capacity(scenario: Scenario, target: str, deployed: Deployed,
                        session: aiohttp.ClientSession) -> dict[str, Any]:
    """RSS before and after ``receivers`` idle connections; a probe broadcast must reach all."""
    n = scenario.receivers
    tracker = Tracker(range(1, n + 1))
    clients: list[Client] = []
    try:
        async with keep_alive(clients, deployed.connector.codec.keepalive()):
            await connect_all(deployed.connector, session, [0], on_tag=tracker.on_tag,
                              into=clients)
            await settle(clients)
            before = deployed.server.stats()
            half = n // 2
            async with measure(deployed.server.pid) as m:
                started = time.perf_counter()
                await connect_all(deployed.connector, session, range(1, half + 1),
                                  concurrency=64, on_tag=tracker.on_tag, into=clients)
                connecting = time.perf_counter() - started
                await settle(clients, quiet=1.0)
                middle = deployed.server.stats()
                started = time.perf_counter()
                await connect_all(deployed.connector, session, range(half + 1, n + 1),
                                  concurrency=64, on_tag=tracker.on_tag, into=clients)
                connecting += time.perf_counter() - started
                await settle(clients, quiet=1.0)
            after = deployed.server.stats()
            assert deployed.poster is not None
            tracker.expect(0, 0)
            await deployed.poster.post(session, message_text(0, 0))
            await drain(tracker, timeout=30.0)
            result = _summary(scenario, target, tracker, m, after.rss_bytes)
            result.update(
                connections=n, rss_before_mb=before.rss_bytes / 2**20,
                rss_per_connection_kb=(after.rss_bytes - before.rss_bytes) / n / 1024,
                # The second half alone: the slope, without one-off growth (caches, pools).
                rss_marginal_kb=(after.rss_bytes - middle.rss_bytes) / (n - half) / 1024,
                connect_cpu_ms_per_connection=m.server_cpu / n * 1000,
                connects_per_s=n / connecting,  # handshakes done; app events may still run
            )
            return result
    finally:
        await close_all(clients)


async def run_scenario(scenario: Scenario, target: str,
                       profile: str | None = None) -> dict[str, Any]:
    """One scenario against one target; ``profile``: py-spy output file for the server."""
    if scenario.kind == "join-storm":
        return await run_join_storm(scenario.receivers, scenario.duration, profile)
    connector_limit = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector_limit) as session, deploy(
        target, scenario
    ) as deployed:
        if scenario.kind in ("capacity", "connect"):
            return await _run_capacity(scenario, target, deployed, session)
        return await _run_traffic(scenario, target, deployed, session, profile)
