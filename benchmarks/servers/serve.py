"""Serve one aiohttp application on 127.0.0.1 (port 0 by default) until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
import resource
import signal
import socket

from aiohttp import web

from emulator.serve import (
    ConnectionCounter,
    ConnectionLimits,
    GuardedSite,
    raise_open_files_limit,
)

__all__ = ["READY_PREFIX", "parse_port", "serve"]

READY_PREFIX = "bench server ready: "


def parse_port(description: str) -> int:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args()
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return int(args.port)


async def _run(app: web.Application, port: int, guarded: bool) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(1024)
    sock.setblocking(False)
    # No access log: the baselines log nothing per request, and neither does the service.
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    if guarded:
        # What the service's own command line listens with: its connection caps from the
        # open-files limit (18,000 of 20,000 here), its request-head timeout.
        log = logging.getLogger("bench-server")
        counter = ConnectionCounter(ConnectionLimits.for_open_files(soft_limit()))
        await GuardedSite(runner, sock, counter, log=log).start()
    else:
        await web.SockSite(runner, sock).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    print(f"{READY_PREFIX}http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def soft_limit() -> int:
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def serve(app: web.Application, port: int, *, guarded: bool = False) -> None:
    """``guarded``: behind the guard the stack's servers listen with (emulator/serve.py)."""
    # Every server under test gets the same room for sockets (the capacity scenarios).
    raise_open_files_limit(logging.getLogger("bench-server"))
    asyncio.run(_run(app, port, guarded))
