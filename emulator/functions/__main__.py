"""``python -m emulator.functions``: run the local Functions host for one app directory."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from ..errors import FunctionsHostError
from ..logs import configure_logging
from ..serve import (
    ConnectionCounter,
    ConnectionLimits,
    GuardedSite,
    bind_sockets,
    collect_garbage_less_often,
    make_runner,
    quiet_loop_errors,
    quiet_malformed_requests,
    raise_open_files_limit,
    stop_runner,
    stop_signals,
    url_host,
)
from .app import make_app
from .config import HostConfig, load_local_settings, merge_settings
from .invoke import exit_if_functions_stranded
from .log import host_logger

__all__ = ["main"]


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m emulator.functions",
                                     description="Local Azure Functions host for Python v2 apps")
    parser.add_argument("--app-dir", default=".", type=Path, help="folder of function_app.py")
    parser.add_argument("--port", type=int, default=None, help="default Host.LocalHttpPort/7071")
    parser.add_argument("--host", default="localhost", help="address to listen on")
    parser.add_argument("--enable-auth", action="store_true", help="check function keys")
    parser.add_argument("--keys-file", type=Path, default=None)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--body-timeout", type=float, default=30.0, metavar="SECONDS",
                        help="time a client has to send a request body (then 408)")
    parser.add_argument("--queue-polling", action="store_true",
                        help="pick up Durable work as late as an idle Azure Storage task hub")
    parser.add_argument("--verbose", "-v", action="store_true")
    return parser.parse_args(argv)


async def _serve(config: HostConfig, host: str, port: int) -> None:
    """Serve until SIGINT or SIGTERM (also when started with SIGINT ignored)."""
    quiet_loop_errors(asyncio.get_running_loop(), host_logger)
    quiet_malformed_requests()
    collect_garbage_less_often()
    counter = ConnectionCounter(
        ConnectionLimits.for_open_files(raise_open_files_limit(host_logger)))
    stop = asyncio.Event()
    with stop_signals(stop):
        sockets = bind_sockets(host, port)
        # No access log: its lines carry query strings, and ``code=`` is a function key.
        runner = make_runner(make_app(config))
        await runner.setup()
        try:
            for sock in sockets:
                await GuardedSite(runner, sock, counter, log=host_logger).start()
            bound = sockets[0].getsockname()[1]
            host_logger.info("Host started on http://%s:%d (Ctrl-C to stop)", url_host(host),
                             bound)
            await stop.wait()
        finally:
            await stop_runner(runner)  # running functions may still call the host
            for sock in sockets:
                sock.close()


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    configure_logging("DEBUG" if args.verbose else "INFO")
    try:
        values, section = load_local_settings(args.app_dir / "local.settings.json")
        settings = merge_settings(values, os.environ)
        port = args.port if args.port is not None else (section.local_http_port or 7071)
        config = HostConfig(app_dir=args.app_dir, settings=settings,
                            cors_origins=section.cors_origins,
                            cors_credentials=section.cors_credentials,
                            enable_auth=args.enable_auth, keys_file=args.keys_file,
                            data_dir=args.data_dir, public_url=f"http://{args.host}:{port}",
                            body_timeout=args.body_timeout,
                            queue_polling=args.queue_polling)
        asyncio.run(_serve(config, args.host, port))
    except (FunctionsHostError, OSError) as exc:
        host_logger.error("%s", exc)
        code = 1
    except Exception:
        # Unforeseen: say so, and let no sync function stuck in a thread keep the process alive.
        host_logger.exception("the host stopped on an unexpected error")
        exit_if_functions_stranded(1)
        raise
    else:
        code = 0
    exit_if_functions_stranded(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
