"""``python -m emulator.functions``: starts, prints its URL and function table, stops on Ctrl-C."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from pathlib import Path

import aiohttp

from tests.support.timeouts import TIMEOUT

ROOT = Path(__file__).resolve().parents[3]


async def test_host_cli_serves_app_and_stops_cleanly(tmp_path) -> None:
    """The command serves the app on the chosen port and exits 0 on SIGINT."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "emulator.functions", "--app-dir", "tests/apps/prefixed",
        "--port", "0", "--host", "127.0.0.1", "--data-dir", str(tmp_path),
        cwd=ROOT, stderr=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL)
    assert process.stderr is not None
    seen: list[str] = []
    try:
        async def wait_started() -> str:
            while True:
                line = (await process.stderr.readline()).decode()
                assert line, "the host exited early:\n" + "".join(seen)
                seen.append(line)
                found = re.search(r"Host started on (http://\S+)", line)
                if found:
                    return found.group(1)

        url = await asyncio.wait_for(wait_started(), TIMEOUT)
        assert any("files: [GET] " in line for line in seen)
        async with aiohttp.ClientSession() as session, session.get(
                f"{url}/v2/files/x/y") as response:
            assert (response.status, await response.text()) == (200, "x/y")
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(process.wait(), TIMEOUT)
    assert code == 0


async def test_host_cli_refused_app_exits_1(tmp_path) -> None:
    """An app Azure would refuse stops the command with exit code 1 and the reason."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "emulator.functions", "--app-dir", "tests/apps/invalid",
        "--port", "0", "--data-dir", str(tmp_path), cwd=ROOT,
        stderr=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL)
    _, stderr = await asyncio.wait_for(process.communicate(), TIMEOUT)
    assert process.returncode == 1
    assert (b'cannot load the ping function: Python return annotation "NoneType" does not match '
            b'binding type "http"') in stderr
