"""Every command-line entry point stops cleanly on SIGINT and on SIGTERM, also when it was
started as a background job (a shell starts those with SIGINT ignored)."""

from __future__ import annotations

import asyncio
import signal

import pytest

from tests.support.processes import cli_process, read_until
from tests.support.timeouts import STOP_TIMEOUT

COMMANDS = {
    "emulator": (("-m", "emulator", "--app-dir", "tests/apps/basic", "--bind", "127.0.0.1",
                  "--service-port", "0", "--host-port", "0"), r"emulator ready:"),
    "emulator.signalr": (("-m", "emulator.signalr", "--host", "127.0.0.1", "--port", "0"),
                         r"listening on http://"),
    "emulator.functions": (("-m", "emulator.functions", "--app-dir", "tests/apps/basic",
                            "--host", "127.0.0.1", "--port", "0"), r"Host started on http://"),
}


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("command", sorted(COMMANDS))
async def test_cli_stops_on_signal_when_run_in_the_background(
    command: str, signum: signal.Signals, tmp_path
) -> None:
    """``kill -INT`` / ``kill -TERM`` of a background job: exit 0 within five seconds."""
    args, ready = COMMANDS[command]
    if command != "emulator.signalr":
        args = (*args, "--data-dir", str(tmp_path))
    async with cli_process(*args, background=True) as process:
        await read_until(process, ready)
        process.send_signal(signum)
        code = await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
    assert code == 0
