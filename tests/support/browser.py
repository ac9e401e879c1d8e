"""A real Chromium (Debian's) for the browser tests, driven by Playwright.

One Chromium process per test session (per test worker), started here and reached over the
DevTools protocol; each test gets a connection of its own and makes its own contexts, so no
cookie, storage or page is shared between tests. Starting Chromium once instead of per test
saves about a second of CPU each time.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

from .timeouts import TIMEOUT
from .tools import require_tool

__all__ = ["CHROMIUM_ARGS", "browser", "chromium_endpoint"]

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags Chromium keeps dialling out, which this network refuses.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
_LISTENING = re.compile(r"DevTools listening on (ws://\S+)")


@pytest.fixture(scope="session")
def chromium_endpoint() -> Iterator[str]:
    """The DevTools WebSocket URL of a Chromium that lives as long as the test session."""
    executable = require_tool(CHROMIUM, "Chromium")
    profile = Path(tempfile.mkdtemp(prefix="chromium-profile-"))
    process = subprocess.Popen(
        [executable, *CHROMIUM_ARGS, "--remote-debugging-port=0",
         f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        endpoint = _read_endpoint(process)
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(profile, ignore_errors=True)


def _read_endpoint(process: subprocess.Popen[str]) -> str:
    assert process.stderr is not None
    seen: list[str] = []
    for line in process.stderr:  # Chromium prints the URL within a second of starting
        seen.append(line)
        match = _LISTENING.search(line)
        if match:
            # Keep reading its stderr in the background, so a full pipe never blocks it.
            threading.Thread(target=process.stderr.read, daemon=True).start()
            return match.group(1)
    raise RuntimeError("Chromium exited before it listened:\n" + "".join(seen[-20:]))


@pytest.fixture
async def browser(chromium_endpoint: str) -> AsyncIterator[Browser]:
    """The session's Chromium, connected for this test; its contexts are closed afterwards."""
    async with async_playwright() as playwright:
        connected = await playwright.chromium.connect_over_cdp(chromium_endpoint)
        try:
            yield connected
        finally:
            for context in connected.contexts[1:]:  # the first is Chromium's default one
                await context.close()
            await connected.close()  # disconnects; the process stays for the next test
