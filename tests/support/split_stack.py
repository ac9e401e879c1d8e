"""The service and the host as two processes, each of which a test can ``kill -9`` and restart.

``python -m emulator`` runs both in one process; outages of one half (the service crashes, the
host crashes) need them apart: ``python -m emulator.signalr`` and ``python -m emulator.functions``
on fixed loopback ports, wired by the connection string and the upstream URL as a user would.
Every line both write goes to one log file, prefixed with the half that wrote it.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
from dataclasses import dataclass, field
from pathlib import Path

from .stack import EXTRA_ARGS, ROOT
from .timeouts import TIMEOUT
from .warm_python import WarmProcess, python_module

__all__ = ["SplitStack", "free_port"]

KEY = "split-stack-test-key-0123456789abcdefghij"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class _Half:
    name: str
    module: str
    args: tuple[str, ...]
    ready: str
    env: dict[str, str]
    process: asyncio.subprocess.Process | WarmProcess | None = None
    pump: asyncio.Task[None] | None = None


@dataclass
class SplitStack:
    """Service and host of the chat app (or ``app_dir``) on two fixed ports."""

    data_dir: Path
    log_path: Path
    settings: dict[str, str] = field(default_factory=dict)
    app_dir: Path = ROOT
    service_port: int = field(default_factory=free_port)
    host_port: int = field(default_factory=free_port)
    lines: list[str] = field(default_factory=list)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _halves: dict[str, _Half] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.log_path.write_text("", encoding="utf-8")
        connection = (f"Endpoint=http://127.0.0.1;Port={self.service_port};AccessKey={KEY};"
                      f"Version=1.0;")
        base = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self._halves["service"] = _Half(
            "service", "emulator.signalr", ("--host", "127.0.0.1",
                        "--port", str(self.service_port), "--access-key", KEY,
                        "--upstream", f"{self.host_url}/runtime/webhooks/signalr"),
            r"listening on http://", base)
        self._halves["host"] = _Half(
            "host", "emulator.functions", ("--app-dir", str(self.app_dir),
                     "--host", "127.0.0.1", "--port", str(self.host_port),
                     "--data-dir", str(self.data_dir), *EXTRA_ARGS),
            r"Host started on http://",
            {**base, "FUNCTIONS_WORKER_RUNTIME": "python",
             "AzureSignalRConnectionString": connection, **self.settings})

    @property
    def host_url(self) -> str:
        return f"http://127.0.0.1:{self.host_port}"

    @property
    def api_url(self) -> str:
        return f"{self.host_url}/api"

    async def start(self, name: str) -> None:
        """Start ``service`` or ``host`` and wait until it listens."""
        half = self._halves[name]
        assert half.process is None or half.process.returncode is not None, f"{name} runs"
        mark = len(self.lines)
        half.process = await python_module(half.module, *half.args, env=half.env)
        half.pump = asyncio.get_running_loop().create_task(self._pump(half))
        ready = rf"^{name}: .*{half.ready}"
        waiting = asyncio.ensure_future(self.wait_log(ready, since=mark, timeout=TIMEOUT * 2))
        await asyncio.wait([waiting, half.pump], return_when=asyncio.FIRST_COMPLETED)
        if not waiting.done():
            waiting.cancel()
            raise AssertionError(f"the {name} exited before it was ready; see {self.log_path}")
        waiting.result()

    async def kill(self, name: str) -> None:
        """``kill -9``: no goodbye to anyone."""
        await self._end(self._halves[name], signal.SIGKILL)

    async def stop(self) -> None:
        """Ctrl-C to both, the service first (its last events need the host)."""
        for name in ("service", "host"):
            await self._end(self._halves[name], signal.SIGINT)

    async def _end(self, half: _Half, how: signal.Signals) -> None:
        process = half.process
        if process is None:
            return
        if process.returncode is None:
            process.send_signal(how)
            try:
                await asyncio.wait_for(process.wait(), TIMEOUT)
            except TimeoutError:
                process.kill()
                await process.wait()
        if half.pump is not None:
            await half.pump

    async def _pump(self, half: _Half) -> None:
        assert half.process is not None and half.process.stdout is not None
        with self.log_path.open("a", encoding="utf-8") as log:
            async for raw in half.process.stdout:
                line = f"{half.name}: {raw.decode(errors='replace').rstrip()}"
                log.write(line + "\n")
                async with self._changed:
                    self.lines.append(line)
                    self._changed.notify_all()

    def count(self, pattern: str, since: int = 0) -> int:
        return sum(1 for line in self.lines[since:] if re.search(pattern, line))

    async def wait_log(self, pattern: str, since: int = 0, timeout: float = TIMEOUT) -> str:
        """The first line from ``since`` on that matches ``pattern``."""

        def found() -> str | None:
            return next((ln for ln in self.lines[since:] if re.search(pattern, ln)), None)

        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(lambda: found() is not None)
        except TimeoutError:
            raise AssertionError(f"no log line matching {pattern!r} within {timeout} s; "
                                 f"see {self.log_path}") from None
        line = found()
        assert line is not None
        return line
