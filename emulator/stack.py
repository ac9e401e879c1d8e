"""Both servers of the offline stack in one process: the local SignalR Service (when the
connection string is local) and the Functions host for the app, wired as Azure wires them.

Start-up: listen on both ports, start the host, then the service with its upstream pointing at
the host's webhook; print where everything is. While running, a change to the app's files
restarts the host (the service and its clients stay up), and a change to the service's
settings file reloads its upstream rules. Stopping: the service first, while both still listen,
so each client's ``disconnected`` event still reaches the app; then the host, which lets the
functions still running finish while it still answers their calls (``functions/drain.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import sys
from pathlib import Path
from typing import Any

from aiohttp import web

from .config import WEBHOOK_PATH, StackConfig, reread_app_files, with_service_port
from .errors import EmulatorError
from .serve import (
    ConnectionCounter,
    ConnectionLimits,
    GuardedSite,
    bind_sockets,
    make_runner,
    stop_runner,
    url_host,
)
from .watch import file_stamps, stamps, start_watching

__all__ = ["run_stack"]

log = logging.getLogger("emulator")


class _Host:
    """The Functions host on its sockets; restarted in place when the app changes."""

    def __init__(self, config: StackConfig, url: str, counter: ConnectionCounter,
                 sockets: list[socket.socket]) -> None:
        self.config = config
        self.url = url
        self.counter = counter
        self.sockets = sockets
        """Kept listening across restarts: each run serves duplicates of them, so a request
        made while the host restarts waits in the backlog instead of being refused."""
        self.runner: web.AppRunner | None = None
        self.runtime: Any = None
        self._modules = set(sys.modules)
        self._restarting: asyncio.Future[None] | None = None

    async def start(self, *, first: bool = False) -> None:
        from .functions import RUNTIME, make_app

        try:
            app = make_app(self.config.host_config(public_url=self.url))
            self.runtime = app[RUNTIME]
        except EmulatorError as error:
            if first:  # the command fails, as Core Tools does
                raise
            log.error("the app cannot be loaded: %s (the host starts again when its files "
                      "change)", error)
            app = _unavailable(str(error))
        runner = make_runner(app)
        await runner.setup()
        for sock in self.sockets:
            await GuardedSite(runner, sock.dup(), self.counter, log=log).start()
        self.runner = runner

    async def stop(self, *, last: bool = False) -> None:
        """Running functions finish while the host still answers them (its shutdown hooks run
        while it listens); then, when this is the last stop, the kept sockets close, so nothing
        waits in their backlog for a host that will not come back. The last stop first lets a
        restart in progress end, so neither the old host nor the new one is left half done."""
        if last and self._restarting is not None:
            with contextlib.suppress(Exception):  # a failed restart logged its error
                await self._restarting
        if self.runner is not None:
            runner, self.runner = self.runner, None
            await runner.shutdown()
            if last:
                for sock in self.sockets:
                    sock.close()
            await runner.cleanup()

    async def restart(self, files: list[str]) -> None:
        """Stop the host and start it again with the app's files as they are now. The restart
        runs to its end even when its caller is cancelled (Ctrl-C while the old host drains):
        the last :meth:`stop` waits for it."""
        self._restarting = asyncio.ensure_future(self._restart(files))
        await asyncio.shield(self._restarting)

    async def _restart(self, files: list[str]) -> None:
        shown = ", ".join(str(Path(f).relative_to(self.config.app_dir)) for f in files[:3])
        log.info("%s changed: restarting the host", shown + (" …" if len(files) > 3 else ""))
        await self.stop()
        self._forget_app_modules()
        try:
            self.config = reread_app_files(self.config)
        except EmulatorError as error:
            log.error("%s; the host keeps the settings it had", error)
        await self.start()
        log.info("the host serves %s again", self.url)

    def _forget_app_modules(self) -> None:
        """Modules the app imported from its own folder are imported afresh on restart (not
        this stack's own, nor installed packages, even when a virtual environment lives in the
        app's folder)."""
        root = str(self.config.app_dir) + "/"
        installed = tuple({sys.prefix + "/", sys.base_prefix + "/"})
        for name in set(sys.modules) - self._modules:
            path = getattr(sys.modules.get(name), "__file__", None) or ""
            if (path.startswith(root) and not path.startswith(installed)
                    and name.split(".")[0] != "emulator"):
                del sys.modules[name]


def _unavailable(reason: str) -> web.Application:
    async def answer(request: web.Request) -> web.Response:
        return web.Response(status=503, text=f"The app cannot be loaded: {reason}")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    return app


def _page(runtime: Any, host_url: str) -> str | None:
    """The app's page, when it has a GET function on the route ``index`` (the sample's)."""
    for info in getattr(runtime, "functions", ()):
        if (info.trigger.kind == "httptrigger" and info.route.strip("/").lower() == "index"
                and (not info.methods or "GET" in info.methods)):
            prefix = runtime.route_prefix
            return f"{host_url}/{prefix}/index" if prefix else f"{host_url}/index"
    return None


async def run_stack(config: StackConfig, stop: asyncio.Event, counter: ConnectionCounter
                    ) -> None:
    """Serve until ``stop`` is set; see the module docstring for the order of things."""
    from .signalr import make_app as make_service_app
    from .signalr.appkeys import SERVICE_KEY
    from .signalr.config import load_settings

    service_sockets: list[socket.socket] = []
    host_sockets: list[socket.socket] = []
    service_runner: web.AppRunner | None = None
    host: _Host | None = None
    tasks: list[asyncio.Task[None]] = []
    try:
        if config.run_service:
            service_sockets = bind_sockets(config.bind, config.service_port)
            config = with_service_port(config, service_sockets[0].getsockname()[1])
        host_sockets = bind_sockets(config.bind, config.host_port)
        host_port = host_sockets[0].getsockname()[1]
        host_url = f"http://{url_host(config.bind)}:{host_port}"
        host = _Host(config, host_url, counter, host_sockets)
        await host.start(first=True)
        webhook = host_url + WEBHOOK_PATH
        keys = host.runtime.keys
        if keys is not None:  # --enableAuth: the upstream carries the system key, as on Azure
            webhook = f"{webhook}?code={keys.system_keys['signalr_extension']}"
        service_url = ""
        if service_sockets:
            service_app = make_service_app(
                config.service_config(webhook=webhook, host_port=host_port))
            service_runner = make_runner(service_app)
            await service_runner.setup()
            for sock in service_sockets:
                await GuardedSite(service_runner, sock, counter, log=log).start()
            service_url = config.connection_string.endpoint
            if config.service_settings_file is not None:
                settings_file = config.service_settings_file
                dispatcher = service_app[SERVICE_KEY].dispatcher

                async def reload_upstream(files: list[str]) -> None:
                    try:
                        dispatcher.templates = load_settings(settings_file)
                    except EmulatorError as error:
                        log.error("%s; the upstream rules in force stay", error)
                        return
                    log.info("%s changed: %d upstream rule(s) in force", settings_file.name,
                             len(dispatcher.templates))

                tasks.append(start_watching(lambda: file_stamps([str(settings_file)]),
                                            reload_upstream))
        if config.reload:
            skip = frozenset({config.data_dir} if config.data_dir else set())
            app_dir = config.app_dir
            tasks.append(start_watching(lambda: stamps(app_dir, skip=skip), host.restart))
        _print_ready(config, host, service_url)
        await stop.wait()
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if service_runner is not None:
            await stop_runner(service_runner)
        if host is not None:
            await host.stop(last=True)
        for sock in service_sockets + host_sockets:
            sock.close()  # only matters when start-up failed before a site took the socket


def _print_ready(config: StackConfig, host: _Host, service_url: str) -> None:
    page = _page(host.runtime, host.url)
    print(f"emulator ready: service={service_url or '-'} host={host.url} page={page or '-'}")
    lines = [""]
    if page:
        lines.append(f"  Open the chat:    {page}")
    lines.append(f"  Functions host:   {host.url}")
    if service_url:
        lines.append(f"  SignalR Service:  {service_url}  (upstream: {host.url}{WEBHOOK_PATH})")
    else:
        lines.append(f"  SignalR Service:  {config.connection_string.endpoint}  (not local: "
                     f"not started)")
    lines.append("  Press Ctrl-C to stop.\n")
    print("\n".join(lines), flush=True)


def default_counter(open_files: int) -> ConnectionCounter:
    """One counter for both servers: they share the process's file descriptors."""
    return ConnectionCounter(ConnectionLimits.for_open_files(open_files))
