"""The stack as two processes, for the ``signalr-split`` target: ``python -m emulator.signalr``
and ``python -m emulator.functions`` (this repo's chat app), wired by the connection string and
the upstream URL as a user would wire them, on loopback. ``python -m emulator`` runs both halves
in one process; on Azure they are separate services. The generator measures this process with
its children, so CPU and memory are those of both halves. The service logs at WARNING, as the
one-process stack does in the benchmarks; the host has no such switch and logs its two lines
per invocation at INFO (into a pipe read here).

Arguments as the stack's command line: ``--data-dir``, ``--settings`` (the app's settings file),
``--service-settings`` (the service's upstream rules), ``--host-port`` (0: a free one). Prints
``split stack ready: service=<url> host=<url>`` once both listen; SIGINT or SIGTERM stops the
service first (its last events need the host), then the host.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from emulator.signalr import DEFAULT_ACCESS_KEY

from ..processes import ROOT, free_loopback_port

STOP_TIMEOUT = 15.0


def _commands(args: argparse.Namespace
              ) -> dict[str, tuple[list[str], dict[str, str], int]]:
    service_port, host_port = free_loopback_port(), args.host_port or free_loopback_port()
    service = ["-m", "emulator.signalr", "--host", "127.0.0.1", "--port", str(service_port),
               "--access-key", DEFAULT_ACCESS_KEY, "--log-level", "WARNING"]
    if args.service_settings:
        service += ["--settings", args.service_settings]
    else:
        service += ["--upstream", f"http://127.0.0.1:{host_port}/runtime/webhooks/signalr"]
    values = json.loads(Path(args.settings).read_text(encoding="utf-8")).get("Values", {})
    connection = (f"Endpoint=http://127.0.0.1;Port={service_port};"
                  f"AccessKey={DEFAULT_ACCESS_KEY};Version=1.0;")
    host_env = {**os.environ, **values, "AzureSignalRConnectionString": connection,
                "FUNCTIONS_WORKER_RUNTIME": "python"}
    host = ["-m", "emulator.functions", "--app-dir", str(ROOT), "--host", "127.0.0.1",
            "--port", str(host_port), "--data-dir", args.data_dir]
    return {"service": (service, dict(os.environ), service_port),
            "host": (host, host_env, host_port)}


async def _start(argv: list[str], env: dict[str, str], port: int
                 ) -> tuple[asyncio.subprocess.Process, asyncio.Task[None]]:
    """Start a half and wait until its port accepts connections (the service logs at WARNING,
    so there is no ready line to wait for)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, *argv, cwd=ROOT, env={**env, "PYTHONUNBUFFERED": "1"},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    drain = asyncio.ensure_future(_drain(process))
    async with asyncio.timeout(60):
        while True:
            if process.returncode is not None:
                raise RuntimeError(f"{argv[1]} exited before it listened")
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            return process, drain


async def _drain(process: asyncio.subprocess.Process) -> None:
    assert process.stdout is not None
    while await process.stdout.read(1 << 16):
        pass  # read, so that a half that logs never blocks on a full pipe


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
        except TimeoutError:
            process.kill()
            await process.wait()


async def main(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    commands = _commands(args)
    started: dict[str, asyncio.subprocess.Process] = {}
    drains: list[asyncio.Task[None]] = []
    try:
        for name in ("host", "service"):
            started[name], drain = await _start(*commands[name])
            drains.append(drain)
        service_port, host_port = commands["service"][2], commands["host"][2]
        print(f"split stack ready: service=http://127.0.0.1:{service_port} "
              f"host=http://127.0.0.1:{host_port}", flush=True)
        exited = asyncio.ensure_future(asyncio.wait(
            [asyncio.ensure_future(p.wait()) for p in started.values()],
            return_when=asyncio.FIRST_COMPLETED))
        await asyncio.wait([asyncio.ensure_future(stop.wait()), exited],
                           return_when=asyncio.FIRST_COMPLETED)
    finally:
        for name in ("service", "host"):
            if name in started:
                await _stop(started[name])
        for drain in drains:
            drain.cancel()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--settings", required=True)
    parser.add_argument("--service-settings")
    parser.add_argument("--host-port", type=int, default=0)
    asyncio.run(main(parser.parse_args()))
