"""The service and the host in the test's own process, each on its own 127.0.0.1 port.

Fault tests need what ``python -m emulator`` cannot give from outside: stop or hang the host
alone, keep its port, choose the service's ``upstream_timeout``. Both halves are started with
their public factories (``emulator.signalr.make_app``, ``emulator.functions.make_app``), wired
exactly as ``emulator/__main__.py`` wires them.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from emulator.functions import HostConfig
from emulator.functions import make_app as make_host_app
from emulator.serve import (
    ConnectionCounter,
    ConnectionLimits,
    GuardedSite,
    make_runner,
    page_origins,
)
from emulator.signalr import ServiceConfig, UpstreamTemplate, stop_runner
from emulator.signalr import make_app as make_service_app
from tests.support.stack import ROOT

__all__ = [
    "KEY",
    "LocalStack",
    "connection_string_for",
    "listening_socket",
    "start_local_stack",
    "with_access_key",
]

KEY = "hardening-test-key-0123456789abcdefghijkl"
_log = logging.getLogger("emulator")


def listening_socket(port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


@dataclass
class LocalStack:
    service_config: ServiceConfig
    host_config: HostConfig
    service_port: int
    host_port: int
    service_app: web.Application
    service_runner: web.AppRunner
    counter: ConnectionCounter
    """Both servers' connections, as in python -m emulator (both sites share the limits)."""
    host_runner: web.AppRunner | None = None
    black_hole: asyncio.Server | None = None
    hung: list[asyncio.StreamWriter] = field(default_factory=list)

    @property
    def service_url(self) -> str:
        return f"http://127.0.0.1:{self.service_port}"

    @property
    def host_url(self) -> str:
        return f"http://127.0.0.1:{self.host_port}"

    @property
    def api_url(self) -> str:
        return f"{self.host_url}/api"

    async def start_host(self, config: HostConfig | None = None) -> None:
        """(Re)start the Functions host on its port."""
        assert self.host_runner is None and self.black_hole is None
        runner = make_runner(make_host_app(config or self.host_config))
        await runner.setup()
        await GuardedSite(runner, listening_socket(self.host_port), self.counter,
                          log=_log).start()
        self.host_runner = runner

    async def stop_host(self) -> None:
        if self.host_runner is not None:
            runner, self.host_runner = self.host_runner, None
            await runner.cleanup()

    async def hang_host(self) -> None:
        """Replace the host by a listener that accepts requests and never answers."""
        await self.stop_host()

        async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.hung.append(writer)
            with contextlib.suppress(Exception):
                while await reader.read(65536):
                    pass

        self.black_hole = await asyncio.start_server(swallow, sock=listening_socket(self.host_port))

    async def unhang_host(self) -> None:
        if self.black_hole is not None:
            self.black_hole.close()
            for writer in self.hung:
                writer.close()
            self.hung.clear()
            await self.black_hole.wait_closed()
            self.black_hole = None

    async def restart_service(self) -> None:
        """Stop the service (clients get Close with allowReconnect) and start a fresh one on the
        same port: no connection, group or buffer survives, as after a real restart."""
        await stop_runner(self.service_runner)
        self.service_app = make_service_app(self.service_config)
        self.service_runner = make_runner(self.service_app)
        await self.service_runner.setup()
        await GuardedSite(self.service_runner, listening_socket(self.service_port), self.counter,
                          log=_log).start()

    async def stop(self) -> None:
        await stop_runner(self.service_runner)  # first: its disconnected events need the host
        await self.unhang_host()
        await self.stop_host()


async def start_local_stack(
    data_dir: Path,
    *,
    app_dir: Path = ROOT,
    settings: dict[str, str] | None = None,
    start_host: bool = True,
    connection_limits: ConnectionLimits | None = None,
    **service_options: Any,
) -> LocalStack:
    """Service + host (the chat app by default) on free ports; ``service_options`` go to
    :class:`ServiceConfig` (``upstream_timeout=2.0``, ``send_queue_size=...``)."""
    service_sock = listening_socket()
    host_sock = listening_socket()
    service_port = service_sock.getsockname()[1]
    host_port = host_sock.getsockname()[1]
    host_sock.close()  # start_host binds it again (SO_REUSEADDR), as a restart would
    connection_string = connection_string_for(service_port, KEY)
    host_config = HostConfig(
        app_dir=app_dir,
        settings={"FUNCTIONS_WORKER_RUNTIME": "python",
                  "AzureSignalRConnectionString": connection_string, **(settings or {})},
        data_dir=data_dir,
        public_url=f"http://127.0.0.1:{host_port}",
    )
    webhook = f"http://127.0.0.1:{host_port}/runtime/webhooks/signalr"
    service_options.setdefault("access_keys", (KEY,))
    # As python -m emulator does: the host's own page may use the service.
    service_options.setdefault("allowed_origins", page_origins("127.0.0.1", host_port))
    service_config = ServiceConfig(upstream=(UpstreamTemplate(url_template=webhook),),
                                   **service_options)
    service_app = make_service_app(service_config)
    service_runner = make_runner(service_app)
    await service_runner.setup()
    counter = ConnectionCounter(connection_limits or ConnectionLimits())
    await GuardedSite(service_runner, service_sock, counter, log=_log).start()
    stack = LocalStack(service_config=service_config, host_config=host_config, counter=counter,
                       service_port=service_port, host_port=host_port, service_app=service_app,
                       service_runner=service_runner)
    if start_host:
        try:
            await stack.start_host()
        except BaseException:
            await service_runner.cleanup()
            raise
    return stack


def connection_string_for(service_port: int, key: str) -> str:
    return f"Endpoint=http://127.0.0.1;Port={service_port};AccessKey={key};Version=1.0;"


def with_access_key(config: HostConfig, key: str, service_port: int) -> HostConfig:
    """The same host configuration, with another AccessKey in its connection string."""
    settings = {**config.settings,
                "AzureSignalRConnectionString": connection_string_for(service_port, key)}
    return dataclasses.replace(config, settings=settings)
