"""The command line of ``func-offline`` (also ``python -m emulator``).

``func-offline [start] [flags]`` runs the app in the current folder as ``func start`` would,
with the local SignalR Service beside it; ``func-offline upstream init`` writes a sample
``settings.json`` for the service, as Microsoft's emulator does; ``func-offline token URL``
prints a REST token for calling the service by hand. Flags that mean the same as
Core Tools' ``func start`` flags have their names (``--port``, ``--cors``, ``--cors-credentials``,
``--enableAuth``, ``--functions``, ``--verbose``).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

__all__ = ["parse_args"]

PROG = "func-offline"


def _start_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--app-dir", "--script-root", type=Path, default=None,
                        help="the app's folder (function_app.py, host.json); default: the "
                        "current folder")
    parser.add_argument("--port", "--host-port", dest="host_port", type=int,
                        help="the Functions host's port (default: Host.LocalHttpPort or 7071; "
                        "0 picks a free one)")
    parser.add_argument("--service-port", type=int,
                        help="the SignalR Service's port (default: the connection string's, "
                        "8888; 0 picks a free one)")
    parser.add_argument("--bind", default="localhost",
                        help="address both servers listen on (default: localhost, IPv4 and "
                        "IPv6 loopback)")
    parser.add_argument("--cors", metavar="ORIGINS",
                        help="comma-separated origins allowed to call the host (replaces "
                        "Host.CORS; they may use the SignalR Service too)")
    parser.add_argument("--cors-credentials", action="store_true", default=None,
                        help="allow credentialed cross-origin calls to the host "
                        "(Host.CORSCredentials)")
    parser.add_argument("--enableAuth", "--enable-auth", dest="enable_auth",
                        action="store_true",
                        help="check function keys as Azure does (off by default, as in Core "
                        "Tools)")
    parser.add_argument("--functions", nargs="+", metavar="NAME",
                        help="run only these functions")
    parser.add_argument("--settings", type=Path,
                        help="local.settings.json to read (default: the app's, else its "
                        "local.settings.json.example)")
    parser.add_argument("--service-settings", type=Path,
                        help="the service's settings.json (UpstreamSettings.Templates); "
                        "default: ./settings.json of the app when there is one, else every "
                        "event to this host")
    parser.add_argument("--data-dir", type=Path,
                        help="Durable state, timer status and generated keys (default: "
                        "<app folder>/.emulator)")
    parser.add_argument("--allow-origin", action="append", default=[], metavar="ORIGIN",
                        help="another origin whose pages may use the SignalR Service "
                        "(repeatable; '*' for any); the host's own page and Host.CORS always "
                        "may")
    parser.add_argument("--queue-polling", action="store_true",
                        help="pick up Durable work (entity operations, orchestrations, "
                        "activities) as late as an idle Azure Storage task hub does: up to "
                        "maxQueuePollingInterval (30 s) after a quiet spell")
    parser.add_argument("--no-reload", dest="reload", action="store_false",
                        help="do not restart the host when the app's files change")
    parser.add_argument("--verbose", action="store_true", help="DEBUG logging")
    parser.add_argument("--log-level", default=None,
                        help="INFO (default), DEBUG (every frame; never tokens or keys)...")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """``command`` is ``start`` or ``upstream-init``; the start flags are also accepted bare."""
    parser = argparse.ArgumentParser(
        prog=PROG, description="Run a Python v2 Azure Functions app offline, with a local "
        "Azure SignalR Service (Serverless mode) beside it.")
    commands = parser.add_subparsers(dest="command")
    start = commands.add_parser("start", help="run the app (the default command)")
    _start_flags(start)
    upstream = commands.add_parser("upstream", help="the SignalR Service's upstream settings")
    upstream_commands = upstream.add_subparsers(dest="upstream_command", required=True)
    init = upstream_commands.add_parser(
        "init", help="write a sample settings.json (every event to the local host)")
    init.add_argument("-o", "--output", type=Path, default=Path("settings.json"),
                      help="where to write it (default: ./settings.json)")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    token = commands.add_parser(
        "token", help="print an access token signed with the app's connection string, for "
        "calling the service's REST API by hand (test.http)")
    token.add_argument("url", help="the REST URL the token is for, e.g. "
                       "http://localhost:8888/api/hubs/chat/:send")
    token.add_argument("--app-dir", type=Path, default=None,
                       help="the app's folder (default: the current folder)")
    token.add_argument("--minutes", type=int, default=60, help="lifetime (default: 60)")
    _start_flags(parser)
    args = parser.parse_args(argv)
    if args.command is None:
        args.command = "start"
    elif args.command == "upstream":
        args.command = "upstream-init"
    if args.command == "start" and args.log_level is None:
        args.log_level = "DEBUG" if args.verbose else "INFO"
    return args
