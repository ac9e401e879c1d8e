"""``python -m emulator.signalr``: run the local SignalR Service on its own.

Prints the connection string to use (as Microsoft's emulator does) and the upstream rules.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from ..contracts.connection_string import parse_connection_string
from ..errors import ConfigError, InvalidConnectionString
from ..logs import configure_logging
from ..serve import (
    ConnectionCounter,
    ConnectionLimits,
    GuardedSite,
    bind_sockets,
    collect_garbage_less_often,
    make_runner,
    page_origins,
    quiet_loop_errors,
    raise_open_files_limit,
    stop_signals,
)
from ..upstream_init import write_sample_settings
from .app import make_app, stop_runner
from .config import DEFAULT_ACCESS_KEY, ServiceConfig, UpstreamTemplate, load_settings

__all__ = ["build_config", "main", "parse_args"]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m emulator.signalr",
        description="A local Azure SignalR Service (Serverless mode).",
    )
    parser.add_argument("--port", type=int, default=None, help="port to listen on (8888)")
    parser.add_argument("--host", default=None, help="address to bind (localhost)")
    parser.add_argument("--settings", help="settings.json with UpstreamSettings.Templates "
                        "(default: ./settings.json when it exists)")
    parser.add_argument("--access-key", action="append", dest="access_keys",
                        help="an access key; give twice for primary and secondary "
                        "(default: the emulator's well-known development key)")
    parser.add_argument("--connection-string",
                        help="take the access key, host and port from a connection string")
    parser.add_argument("--upstream", metavar="URL",
                        help="send every event to this URL template (overrides --settings)")
    parser.add_argument("--allow-origin", action="append", dest="allow_origins",
                        metavar="ORIGIN",
                        help="an origin whose pages may use the service (repeatable; '*' for "
                        "any); default: the Functions host's http://localhost:7071")
    parser.add_argument("--log-level", default="INFO", help="DEBUG shows every frame")
    commands = parser.add_subparsers(dest="command")
    upstream = commands.add_parser("upstream", help="upstream settings")
    init = upstream.add_subparsers(dest="upstream_command", required=True).add_parser(
        "init", help="write a sample settings.json (every event to http://localhost:7071)")
    init.add_argument("-o", "--output", type=Path, default=Path("settings.json"))
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    return parser.parse_args(argv)


def build_config(args: argparse.Namespace) -> ServiceConfig:
    """Flags over the connection string over settings.json over defaults."""
    keys: tuple[str, ...] = (DEFAULT_ACCESS_KEY,)
    host, port = "localhost", 8888
    if args.connection_string:
        try:
            parsed = parse_connection_string(args.connection_string)
        except InvalidConnectionString as exc:
            raise ConfigError(f"--connection-string: {exc}") from None
        if parsed.access_key:
            keys = (parsed.access_key,)
        host, port = parsed.host, parsed.port
    if args.access_keys:
        keys = tuple(args.access_keys)
    upstream: tuple[UpstreamTemplate, ...] = ()
    if args.upstream:
        upstream = (UpstreamTemplate(url_template=args.upstream),)
    elif args.settings:
        upstream = load_settings(args.settings)
    elif Path("settings.json").is_file():
        upstream = load_settings("settings.json")
    return ServiceConfig(
        access_keys=keys, upstream=upstream,
        allowed_origins=tuple(args.allow_origins or page_origins("localhost", 7071)),
        host=args.host or host, port=args.port if args.port is not None else port,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.command == "upstream":
        return write_sample_settings(args.output, force=args.force)
    configure_logging(args.log_level)
    try:
        config = build_config(args)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print("Azure SignalR local service; use this connection string:")
    print(f"  Endpoint=http://{config.host};Port={config.port};"
          f"AccessKey={config.primary_key};Version=1.0;")
    if config.upstream:
        print("Upstream templates (first match wins):")
        for index, item in enumerate(config.upstream):
            print(f"  [{index}] {item.url_template} (event: {item.event_pattern!r}, "
                  f"hub: {item.hub_pattern!r}, category: {item.category_pattern!r})")
    else:
        print("No upstream configured: client messages are not forwarded.")
    try:
        asyncio.run(_serve(config))
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


async def _serve(config: ServiceConfig) -> None:
    """Listen until SIGINT or SIGTERM, then stop with the clients closed first."""
    log = logging.getLogger("emulator.signalr")
    quiet_loop_errors(asyncio.get_running_loop(), log)
    collect_garbage_less_often()
    counter = ConnectionCounter(ConnectionLimits.for_open_files(raise_open_files_limit(log)))
    stop = asyncio.Event()
    with stop_signals(stop):
        sockets = bind_sockets(config.host, config.port)
        # No aiohttp access log: its lines carry query strings, and access_token is a secret.
        # The service logs each connection, upstream and REST call itself.
        runner = make_runner(make_app(config))
        await runner.setup()
        try:
            for sock in sockets:
                await GuardedSite(runner, sock, counter, log=log).start()
            log.info(
                "listening on http://%s:%d", config.host, sockets[0].getsockname()[1])
            await stop.wait()
        finally:
            await stop_runner(runner)


if __name__ == "__main__":
    sys.exit(main())
