"""``func-offline`` / ``python -m emulator``: run a Python v2 Functions app offline, with the
local SignalR Service beside it (see :mod:`emulator.cli` for the flags, :mod:`emulator.stack`
for what runs). Exit codes: 0 stopped cleanly, 1 the app or a server failed, 2 bad settings.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from .cli import parse_args
from .config import StackConfig, load_stack_config
from .contracts import issue_token
from .errors import EmulatorError
from .logs import configure_logging
from .serve import (
    collect_garbage_less_often,
    quiet_loop_errors,
    quiet_malformed_requests,
    raise_open_files_limit,
    stop_signals,
)
from .upstream_init import write_sample_settings

log = logging.getLogger("emulator")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.command == "upstream-init":
        return write_sample_settings(args.output, force=args.force)
    if args.command == "token":
        return _print_token(args)
    configure_logging(args.log_level)
    try:
        config = load_stack_config(
            app_dir=args.app_dir or Path.cwd(), bind=args.bind, service_port=args.service_port,
            host_port=args.host_port, settings_file=args.settings,
            service_settings_file=args.service_settings, data_dir=args.data_dir,
            enable_auth=args.enable_auth, cors=args.cors, cors_credentials=args.cors_credentials,
            allow_origins=args.allow_origin, functions=args.functions or (), reload=args.reload,
            queue_polling=args.queue_polling)
    except EmulatorError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_run(config))
    except (EmulatorError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        code = 1
    except Exception:
        # Unforeseen: say so, and let no sync function stuck in a thread keep the process alive.
        log.exception("the stack stopped on an unexpected error")
        _exit_if_functions_stranded(1)
        raise
    else:
        log.info("stopped")
        code = 0
    _exit_if_functions_stranded(code)
    return code


def _exit_if_functions_stranded(code: int) -> None:
    from .functions.invoke import exit_if_functions_stranded  # token, upstream-init: no host

    exit_if_functions_stranded(code)


def _print_token(args: argparse.Namespace) -> int:
    """A REST token for ``args.url``, signed with the key of the app's connection string."""
    try:
        config = load_stack_config(app_dir=args.app_dir or Path.cwd(), reload=False)
    except EmulatorError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    key = config.connection_string.access_key
    if not key:
        print("error: the connection string has no AccessKey", file=sys.stderr)
        return 2
    print(issue_token(audience=args.url.split("?")[0], key=key, now=time.time(),
                      lifetime=args.minutes * 60))
    return 0


async def _run(config: StackConfig) -> None:
    from .stack import default_counter, run_stack

    quiet_loop_errors(asyncio.get_running_loop(), log)
    quiet_malformed_requests()
    collect_garbage_less_often()
    counter = default_counter(raise_open_files_limit(log))
    stop = asyncio.Event()
    with stop_signals(stop):
        await run_stack(config, stop, counter)


if __name__ == "__main__":
    sys.exit(main())
