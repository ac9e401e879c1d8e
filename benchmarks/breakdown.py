"""Where the CPU of one message goes: py-spy samples of the stack, sorted into the hops of its path.

``python -m benchmarks.breakdown PROFILE [--us-per-message N]`` reads a profile that
``python -m benchmarks SCENARIO --profile DIR`` wrote (py-spy's raw format: one stack per line,
frames root first, then a count) and prints one Markdown row per hop: its share of the busy
samples and, given the server CPU per message, its microseconds. A sample belongs to the
innermost frame that names a hop (the SDK's HTTP call inside ``broadcast`` is the SDK's, not the
function's); samples in aiohttp or asyncio alone are the HTTP and event-loop machinery; idle
samples (waiting in ``select``, a thread waiting for work) are left out.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

__all__ = ["HOPS", "breakdown", "main"]

HOPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("durable store (SQLite)", ("functions/durable_store.py",)),
    ("Durable SDK: client's HTTP calls to the host", ("models/utils/http_utils",)),
    ("entity batch: SDK and app (worker thread)", ("durable_functions/entity.py",
                                                   "entities/EntityState")),
    ("app code (function_app.py, chat/)", ("function_app.py", "/chat/")),
    ("Durable SDK: client binding", ("durable_functions/",)),
    ("host: output binding's REST call", ("HostRuntime.send_outputs",)),
    ("host: Durable HTTP API", ("functions/durable_api.py",)),
    ("host: entity engine", ("functions/durable_entities.py", "functions/durable.py",
                             "functions/entities/")),
    ("host: invoking functions", ("functions/invoke.py",)),
    ("host: webhook, routes, middlewares", ("emulator/functions/",)),
    ("service: upstream call", ("signalr/upstream_client.py", "signalr/dispatcher.py")),
    ("service: REST API (auth, body)", ("signalr/rest.py", "signalr/protocol/payload.py")),
    ("service: fan-out and WebSocket writes", ("WebSocketAttachment.", "_send_now (", "_send (",
                                               "Flusher.", "signalr/sender.py",
                                               "Session.send_data", "Session.wake")),
    ("service: client frames, sessions, middlewares", ("emulator/signalr/", "emulator/contracts/",
                                                      "emulator/serve.py")),
)
MACHINERY: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("aiohttp: HTTP and WebSocket machinery", ("aiohttp/", "multidict", "yarl/")),
    ("event loop (callbacks, sockets)", ("asyncio/", "selectors.py", "socket.py")),
)
IDLE = ("EpollSelector.select", "_worker (concurrent/futures/thread.py", "Condition.wait",
        "SimpleQueue.get", "Event.wait")


def _hop(frames: list[str]) -> str:
    for table in (HOPS, MACHINERY):
        for frame in reversed(frames):
            for name, needles in table:
                if any(needle in frame for needle in needles):
                    return name
    return "other"


def breakdown(lines: Iterable[str]) -> tuple[Counter[str], int]:
    """Busy samples per hop, and how many were idle."""
    hops: Counter[str] = Counter()
    idle = 0
    for line in lines:
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        if frames[-1].startswith(IDLE):
            idle += int(count)
            continue
        hops[_hop(frames)] += int(count)
    return hops, idle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.breakdown",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path, help="a py-spy raw profile (--profile DIR)")
    parser.add_argument("--us-per-message", type=float, default=0.0,
                        help="the server's CPU per message, to turn shares into microseconds")
    args = parser.parse_args(argv)
    hops, idle = breakdown(args.profile.read_text(encoding="utf-8").splitlines())
    busy = sum(hops.values())
    if not busy:
        print("no busy samples", file=sys.stderr)
        return 1
    print(f"{busy} busy samples ({idle} idle left out)\n")
    print("| hop | share | µs per message |\n|---|---|---|")
    for name, count in hops.most_common():
        share = count / busy
        micro = f"{share * args.us_per_message:,.0f}" if args.us_per_message else "-"
        print(f"| {name} | {share:.1%} | {micro} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
