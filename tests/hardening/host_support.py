"""What the host's hardening tests share: a host of one test app in this process, a raw HTTP
exchange, and a log capture formatted as the command-line entry points format it."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from emulator.functions import HostConfig, make_app
from tests.support.timeouts import TIMEOUT

__all__ = ["APPS", "KEYS", "HostFactory", "InProcessHost", "LogCapture", "raw_exchange"]

APPS = Path(__file__).resolve().parents[1] / "apps"
KEYS = {"masterKey": "master-key", "functionKeys": {"default": "host-key"},
        "systemKeys": {"signalr_extension": "signalr-key",
                       "durabletask_extension": "durable-key"}}


@dataclass
class InProcessHost:
    url: str
    app: web.Application
    runner: web.AppRunner
    port: int

    @property
    def durable_url(self) -> str:
        return f"{self.url}/runtime/webhooks/durabletask"


HostFactory = Callable[..., Awaitable[InProcessHost]]


@pytest.fixture
async def make_test_host(tmp_path: Path) -> AsyncIterator[HostFactory]:
    """``await make_test_host("basic", settings, enable_auth=True, ...)`` on 127.0.0.1; its
    ``public_url`` is its own address unless given; stopped at the end of the test."""
    hosts: list[InProcessHost] = []

    async def start(app_name: str, settings: dict[str, str] | None = None,
                    **options: Any) -> InProcessHost:
        sock = socket.create_server(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        options.setdefault("data_dir", tmp_path / f"data{len(hosts)}")
        options.setdefault("public_url", f"http://127.0.0.1:{port}")
        if options.pop("keys", False):
            keys = tmp_path / f"keys{len(hosts)}.json"
            keys.write_text(json.dumps(KEYS))
            options.update(enable_auth=True, keys_file=keys)
        config = HostConfig(app_dir=APPS / app_name, settings=settings or {}, **options)
        app = make_app(config)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        host = InProcessHost(url=f"http://127.0.0.1:{port}", app=app, runner=runner, port=port)
        hosts.append(host)
        return host

    yield start
    for host in reversed(hosts):
        await host.runner.cleanup()


async def raw_exchange(port: int, request: bytes, *, then: bytes = b"",
                       timeout: float = TIMEOUT) -> bytes:
    """Send ``request`` (and ``then``), and read until the server closes or answers one
    response head; returns what arrived."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        if then:
            writer.write(then)
            await writer.drain()
        return await asyncio.wait_for(reader.read(65536), timeout)
    finally:
        writer.close()


@dataclass
class LogCapture(logging.Handler):
    """Every record of the stack's loggers, formatted the way ``configure_logging`` formats
    them (time, level, logger, message, traceback)."""

    records: list[logging.LogRecord] = field(default_factory=list)

    def __post_init__(self) -> None:
        logging.Handler.__init__(self, logging.DEBUG)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s",
                                            datefmt="%H:%M:%S"))

    def __hash__(self) -> int:
        return id(self)

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    @property
    def text(self) -> str:
        return "\n".join(self.format(r) for r in self.records)

    def at_least(self, level: int) -> list[logging.LogRecord]:
        return [r for r in self.records if r.levelno >= level]


@pytest.fixture
def log_capture() -> Any:
    """Captures ``emulator`` and ``aiohttp`` records at every level during the test."""
    capture = LogCapture()
    loggers = [logging.getLogger(name) for name in ("emulator", "aiohttp")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(capture)
        logger.setLevel(logging.DEBUG)
    yield capture
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(capture)
        logger.setLevel(level)


async def read_json(session: aiohttp.ClientSession, url: str) -> Any:
    async with session.get(url) as response:
        assert response.status == 200, (response.status, await response.text())
        return await response.json(content_type=None)
