"""``python -m emulator``: the local SignalR Service and the local Functions host, together.

The service listens on the port of ``AzureSignalRConnectionString`` (8888 in the example
settings) and sends every hub event upstream to the host's ``/runtime/webhooks/signalr``; the host
serves the app on 7071. Ctrl-C stops both, the service first so that its ``disconnected`` events
still reach the host.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import socket
import sys
from pathlib import Path

from aiohttp import web

from .config import (
    CONNECTION_SETTING,
    ConfigError,
    StackConfig,
    load_stack_config,
    with_service_port,
)
from .errors import ConfigError as AnyConfigError
from .serve import bind_sockets, page_origins, stop_signals, url_host

log = logging.getLogger("emulator")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m emulator", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--app-dir",
        type=Path,
        default=Path.cwd(),
        help="folder of function_app.py (default: the current folder)",
    )
    parser.add_argument(
        "--bind", default="localhost", help="address both servers listen on (default: localhost)"
    )
    parser.add_argument(
        "--service-port",
        type=int,
        help="SignalR Service port (default: from the "
        "connection string, 8888); 0 picks a free port",
    )
    parser.add_argument(
        "--host-port",
        type=int,
        help="Functions host port (default: Host.LocalHttpPort or 7071); 0 picks a free port",
    )
    parser.add_argument(
        "--settings",
        type=Path,
        help="local.settings.json to read (default: the app's, else local.settings.json.example)",
    )
    parser.add_argument(
        "--service-settings",
        type=Path,
        help="the service's settings.json (UpstreamSettings.Templates); default: "
        "every event to this host",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="where entity state is kept (default: <app-dir>/.emulator)",
    )
    parser.add_argument(
        "--enable-auth",
        action="store_true",
        help="check function keys as Azure does (off by default, as in Core Tools)",
    )
    parser.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="another origin whose pages may use the SignalR Service (repeatable; '*' for any); "
        "the host's own page and Host.CORS are always allowed",
    )
    parser.add_argument("--log-level", default="INFO", help="DEBUG shows every frame")
    return parser.parse_args(argv)


async def serve(config: StackConfig, stop: asyncio.Event,
                allow_origins: tuple[str, ...] = ()) -> None:
    from .functions import RUNTIME, HostConfig, load_host_json, route_prefix_of
    from .functions import make_app as make_host_app
    from .signalr import ServiceConfig, UpstreamTemplate, load_settings, stop_runner
    from .signalr import make_app as make_service_app

    runners: list[web.AppRunner] = []
    service_runner: web.AppRunner | None = None
    service_sockets: list[socket.socket] = []
    host_sockets: list[socket.socket] = []
    try:
        service_sockets = (
            bind_sockets(config.bind, config.service_port) if config.run_service else []
        )
        if service_sockets:
            config = with_service_port(config, service_sockets[0].getsockname()[1])
            # The host exports only settings missing from the environment; a connection string
            # set there must still name the port the service really listens on.
            if CONNECTION_SETTING in os.environ:
                os.environ[CONNECTION_SETTING] = config.settings[CONNECTION_SETTING]
        host_sockets = bind_sockets(config.bind, config.host_port)
        host_port = host_sockets[0].getsockname()[1]
        host_url = f"http://{url_host(config.bind)}:{host_port}"
        webhook = f"{host_url}/runtime/webhooks/signalr"

        host_app = make_host_app(
            HostConfig(
                app_dir=config.app_dir,
                settings=config.settings,
                cors_origins=config.host_section.cors_origins,
                cors_credentials=config.host_section.cors_credentials,
                enable_auth=config.enable_auth,
                data_dir=config.data_dir,
                public_url=host_url,
            )
        )
        keys = host_app[RUNTIME].keys
        if keys is not None:  # --enable-auth: the upstream must carry the system key, as on Azure
            webhook = f"{webhook}?code={keys.system_keys['signalr_extension']}"
        host_runner = web.AppRunner(host_app, handle_signals=False, access_log=None)
        await host_runner.setup()
        runners.append(host_runner)
        for sock in host_sockets:
            await web.SockSite(host_runner, sock).start()

        service_url = ""
        if service_sockets:
            if config.service_settings_file:
                upstream = load_settings(config.service_settings_file)
            else:
                upstream = (UpstreamTemplate(url_template=webhook),)
            service_app = make_service_app(
                ServiceConfig(
                    access_keys=config.access_keys,
                    upstream=upstream,
                    allowed_origins=(*page_origins(config.bind, host_port),
                                     *config.host_section.cors_origins, *allow_origins),
                )
            )
            service_runner = web.AppRunner(service_app, handle_signals=False, access_log=None)
            await service_runner.setup()
            runners.append(service_runner)
            for sock in service_sockets:
                await web.SockSite(service_runner, sock).start()
            service_url = config.connection_string.endpoint

        prefix = route_prefix_of(load_host_json(config.app_dir))
        page = f"{host_url}/{prefix}/index" if prefix else f"{host_url}/index"
        service_line = (
            f"{service_url}  (upstream: {host_url}/runtime/webhooks/signalr)"
            if service_url
            else f"{config.connection_string.endpoint}  (not local: not started)"
        )
        print(f"emulator ready: service={service_url or '-'} host={host_url} page={page}")
        print(f"\n  Open the chat:    {page}\n  Functions host:   {host_url}")
        print(f"  SignalR Service:  {service_line}")
        print("  Press Ctrl-C to stop.\n", flush=True)
        await stop.wait()
    finally:
        # The service says goodbye to its clients first, while both servers still listen: each
        # disconnected event goes upstream to the host, whose functions may call the REST API.
        if service_runner is not None:
            await stop_runner(service_runner)
            runners.remove(service_runner)
        for runner in reversed(runners):
            await runner.cleanup()
        for sock in service_sockets + host_sockets:
            sock.close()  # only matters when start-up failed before a site took the socket


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    try:
        config = load_stack_config(
            app_dir=args.app_dir,
            bind=args.bind,
            service_port=args.service_port,
            host_port=args.host_port,
            settings_file=args.settings,
            service_settings_file=args.service_settings,
            data_dir=args.data_dir,
            enable_auth=args.enable_auth,
        )
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    async def run() -> None:
        stop = asyncio.Event()
        with stop_signals(stop):
            await serve(config, stop, tuple(args.allow_origin))

    from .functions import FunctionsHostError

    try:
        asyncio.run(run())
    except (FunctionsHostError, AnyConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    log.info("stopped")
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
