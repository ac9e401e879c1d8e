"""Orchestrations survive the host process: a clean stop, and ``kill -9`` in the middle of work."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp

from tests.integration.functions.durable_support import poll_status
from tests.support.timeouts import TIMEOUT

ROOT = Path(__file__).resolve().parents[3]
WAITING = "waiting for a decision"


class HostProcess:
    """``python -m emulator.functions`` on a free port; its log is read as it comes."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self.url = ""
        self._reader: asyncio.Task[None] | None = None

    async def started(self) -> str:
        assert self.process.stderr is not None
        stream = self.process.stderr
        while not self.url:
            line = (await stream.readline()).decode()
            assert line, "the host exited early:\n" + "".join(self.lines)
            self.lines.append(line)
            found = re.search(r"Host started on (http://\S+)", line)
            if found:
                self.url = found.group(1)

        async def drain() -> None:  # keep reading, or a full pipe would stall the host
            while line := await stream.readline():
                self.lines.append(line.decode())

        self._reader = asyncio.get_running_loop().create_task(drain())
        return self.url

    async def logged(self, text: str) -> None:
        """Until a log line contains ``text``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TIMEOUT
        while not any(text in line for line in self.lines):
            assert loop.time() < deadline, f"never logged {text!r}:\n" + "".join(self.lines)
            await asyncio.sleep(0.02)

    async def stop(self, how: signal.Signals) -> int:
        if self.process.returncode is None:
            self.process.send_signal(how)
        code = await asyncio.wait_for(self.process.wait(), TIMEOUT)
        if self._reader is not None:
            await asyncio.wait_for(self._reader, TIMEOUT)
        return code


@asynccontextmanager
async def host_process(app: str, data_dir: Path) -> AsyncIterator[HostProcess]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "emulator.functions", "--app-dir", f"tests/apps/{app}",
        "--port", "0", "--host", "127.0.0.1", "--data-dir", str(data_dir), cwd=ROOT,
        stderr=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL)
    host = HostProcess(process)
    try:
        await asyncio.wait_for(host.started(), TIMEOUT)
        yield host
    finally:
        if process.returncode is None:
            await host.stop(signal.SIGKILL)


def moved(url: str, host: HostProcess) -> str:
    """A URL the host handed out, pointed at the host's new port."""
    return re.sub(r"^http://[^/]+", host.url, url)


async def test_approval_waits_across_clean_stop_and_kill_9(tmp_path) -> None:
    """An approval waiting on a decision and one waiting on a timer both survive a clean stop
    and a kill -9 (one of them with the decision just sent), then finish as if nothing happened."""
    data = tmp_path / "data"
    async with aiohttp.ClientSession() as http:
        async with host_process("durable_approval", data) as first:
            links = {}
            for item, timeout in (("laptop", 600), ("desk", 2)):
                async with http.post(f"{first.url}/api/approvals",
                                     json={"item": item, "timeout_seconds": timeout}) as reply:
                    assert reply.status == 202
                    links[item] = await reply.json()
            for item in links:
                await poll_status(http, links[item]["statusQueryGetUri"], ("Running",),
                                  custom=WAITING)
            assert await first.stop(signal.SIGINT) == 0
            assert any("host stopped" in line for line in first.lines)

        async with host_process("durable_approval", data) as second:
            status = await poll_status(http, moved(links["laptop"]["statusQueryGetUri"], second),
                                       ("Running",), custom=WAITING)
            assert status["input"]  # the instance and its input came back from the store
            decision = f"{second.url}/api/approvals/{links['laptop']['id']}/decision"
            async with http.post(decision, json={"approved": True, "by": "ann"}) as reply:
                assert reply.status == 202
            await second.stop(signal.SIGKILL)  # the decision is queued, perhaps mid-episode

        async with host_process("durable_approval", data) as third:
            laptop = await poll_status(http, moved(links["laptop"]["statusQueryGetUri"], third))
            desk = await poll_status(http, moved(links["desk"]["statusQueryGetUri"], third))
            assert (laptop["runtimeStatus"], laptop["output"]) == (
                "Completed", {"item": "laptop", "approved": True, "by": "ann"})
            assert (desk["runtimeStatus"], desk["customStatus"]) == ("Completed", "expired")
            assert desk["output"]["reason"] == "no decision in time"
            assert await third.stop(signal.SIGINT) == 0


async def test_activity_killed_mid_run_runs_again_after_restart(tmp_path) -> None:
    """kill -9 while an activity runs: after the restart the activity runs again and the
    orchestration completes (activities run at least once, as on Azure)."""
    data = tmp_path / "data"
    async with aiohttp.ClientSession() as http:
        async with host_process("durable_features", data) as first:
            async with http.post(f"{first.url}/api/start/slow_step", json=1.0) as reply:
                links = await reply.json()
            await first.logged("Executing 'Functions.sleepy'")
            await first.stop(signal.SIGKILL)
        async with host_process("durable_features", data) as second:
            await second.logged("resuming")
            done = await poll_status(http, moved(links["statusQueryGetUri"], second))
            assert (done["runtimeStatus"], done["output"]) == ("Completed", "rested 1.0 s")
            assert any("Executing 'Functions.sleepy'" in line for line in second.lines)
