"""Servers under test as child processes, and what ``/proc`` says about them.

CPU is user + system time of the process and every descendant (the stack runs as one process,
but a future worker process would still be counted); memory is the summed resident set.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ROOT", "ProcessStats", "Server", "free_loopback_port", "read_stats",
           "start_server"]

ROOT = Path(__file__).resolve().parents[1]
_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")
URL = re.compile(r"https?://\S+")


@dataclass(frozen=True)
class ProcessStats:
    cpu_seconds: float
    rss_bytes: int


def _children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError):
                text = Path(f"/proc/{pid}/task/{task}/children").read_text()
                found += [int(child) for child in text.split()]
    return found


def read_stats(pid: int, *, descendants: bool = True) -> ProcessStats:
    """CPU seconds (user + system) and RSS of ``pid`` (and its descendants), from ``/proc``."""
    cpu, rss = 0.0, 0
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            stat = Path(f"/proc/{current}/stat").read_text()
            statm = Path(f"/proc/{current}/statm").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        cpu += (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime (fields 14, 15)
        rss += int(statm.split()[1]) * _PAGE
        if descendants:
            todo += _children(current)
    return ProcessStats(cpu, rss)


@dataclass
class Server:
    """A running server: its URLs (from its ready line) and its process."""

    name: str
    process: asyncio.subprocess.Process
    urls: list[str]
    output: list[str] = field(default_factory=list)
    _pump: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def stats(self) -> ProcessStats:
        return read_stats(self.pid)

    async def stop(self, timeout: float = 15.0) -> int:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(self.process.wait(), timeout)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
        return self.process.returncode or 0


async def _drain(server: Server) -> None:
    assert server.process.stdout is not None
    async for raw in server.process.stdout:
        server.output.append(raw.decode(errors="replace").rstrip())
        del server.output[:-200]  # keep the tail for error messages


def free_loopback_port() -> int:
    """A port free on 127.0.0.1 a moment ago, for a server that must be told its port first."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def start_server(name: str, argv: list[str], ready_prefix: str,
                       timeout: float = 60.0) -> Server:
    """Run ``python <argv>`` from the repository root; wait for the line ``ready_prefix...``."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, *argv, cwd=ROOT, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        limit=1 << 20,
    )
    assert process.stdout is not None
    seen: list[str] = []
    try:
        async with asyncio.timeout(timeout):
            while True:
                raw = await process.stdout.readline()
                if not raw:
                    raise RuntimeError(f"{name} exited before it was ready:\n" + "\n".join(seen))
                line = raw.decode(errors="replace").rstrip()
                seen.append(line)
                if line.startswith(ready_prefix):
                    break
    except BaseException:
        if process.returncode is None:
            process.kill()
            await process.wait()
        raise
    server = Server(name, process, URL.findall(line), seen)
    server._pump = asyncio.ensure_future(_drain(server))
    return server
