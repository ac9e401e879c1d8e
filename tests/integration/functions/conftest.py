"""Fixtures for the host's integration tests: a running host and a stand-in REST endpoint."""

from __future__ import annotations

import asyncio
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
from tests.integration.functions.host_logs import HostLogs
from tests.support.timeouts import TIMEOUT

APPS = Path(__file__).resolve().parents[2] / "apps"
ACCESS_KEY = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH"


@dataclass
class RunningHost:
    url: str
    app: web.Application
    session: aiohttp.ClientSession
    runner: web.AppRunner | None = None

    async def stop(self) -> None:
        """Stop this host now, as Ctrl-C would (the test may start another on the same data)."""
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    async def request(self, method: str, path: str, **kwargs: Any) -> tuple[int, bytes, Any]:
        async with self.session.request(method, self.url + path, **kwargs) as response:
            return response.status, await response.read(), response.headers


@dataclass
class RestRecorder:
    """A tiny stand-in for the service's REST API that records each request."""

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    status: int = 202


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.create_server(("127.0.0.1", 0))
    site = web.SockSite(runner, sock)
    await site.start()
    return runner, f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
async def rest_recorder() -> AsyncIterator[RestRecorder]:
    recorder = RestRecorder(url="")

    async def record(request: web.Request) -> web.Response:
        recorder.requests.append({
            "method": request.method, "path": request.path, "query": dict(request.query),
            "headers": dict(request.headers), "body": await request.read(),
        })
        return web.Response(status=recorder.status, text="recorded")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    runner, recorder.url = await _serve(app)
    yield recorder
    await runner.cleanup()


HostFactory = Callable[..., Awaitable[RunningHost]]


@pytest.fixture
async def make_host(tmp_path: Path) -> AsyncIterator[HostFactory]:
    """Start the host for an app folder under tests/apps; stopped at the end of the test."""
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT))

    async def start(app_name: str, settings: dict[str, str] | None = None,
                    **options: Any) -> RunningHost:
        options.setdefault("data_dir", tmp_path / "data")
        config = HostConfig(app_dir=APPS / app_name, settings=settings or {}, **options)
        app = make_app(config)
        runner, url = await _serve(app)
        host = RunningHost(url=url, app=app, session=session, runner=runner)
        hosts.append(host)
        return host

    hosts: list[RunningHost] = []
    yield start
    await session.close()
    for host in hosts:
        await host.stop()


@pytest.fixture
async def host_logs() -> AsyncIterator[HostLogs]:
    """Everything the host logs during the test, with a way to wait for a line."""
    logger = logging.getLogger("emulator.functions")
    handler = HostLogs(asyncio.get_running_loop())
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)
