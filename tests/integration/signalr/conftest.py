"""Fixtures for the service's integration tests (helpers live in ``signalr_support``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from emulator.signalr import ServiceConfig, UpstreamTemplate, make_app
from tests.integration.signalr.support import KEY, Recorded, Service, Upstream, bound_socket
from tests.support.timeouts import TIMEOUT


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    recorder = Upstream(url="")

    async def handler(request: web.Request) -> web.StreamResponse:
        call = Recorded(path=request.path_qs, headers=dict(request.headers),
                        body=await request.read())
        recorder.calls.append(call)
        recorder.arrived.put_nowait(call)
        if recorder.respond is not None:
            return await recorder.respond(call)
        return web.Response(status=200)

    app = web.Application()
    app.router.add_route("POST", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    sock = bound_socket()
    site = web.SockSite(runner, sock)
    await site.start()
    recorder.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    yield recorder
    await runner.cleanup()


@pytest.fixture
async def make_service() -> AsyncIterator[Callable[..., Awaitable[Service]]]:
    runners: list[web.AppRunner] = []

    async def factory(upstream_url: str | None = None, **overrides: Any) -> Service:
        templates = ()
        if upstream_url is not None:
            templates = (UpstreamTemplate(
                url_template=upstream_url + "/upstream/{hub}/{category}/{event}"),)
        config = ServiceConfig(access_keys=(KEY,), upstream=templates, **overrides)
        app = make_app(config)
        runner = web.AppRunner(app)
        await runner.setup()
        sock = bound_socket()
        await web.SockSite(runner, sock).start()
        runners.append(runner)
        port = sock.getsockname()[1]
        return Service(base=f"http://127.0.0.1:{port}", port=port, config=config, app=app)

    yield factory
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as session:
        yield session
