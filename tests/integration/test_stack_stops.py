"""Ctrl-C while functions run: the stack lets them finish while the host still answers their
Durable calls, then exits; one that never finishes is cancelled after the grace, and a thread
stuck in a sync function does not keep the process alive (the app: tests/apps/stopping)."""

from __future__ import annotations

import asyncio
import shutil
import signal
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import ARTIFACTS
from tests.support.stack import ROOT, RunningStack, start_stack
from tests.support.timeouts import STOP_TIMEOUT, TIMEOUT

APP = ROOT / "tests" / "apps" / "stopping"
NEVER = "0 0 0 1 1 *"
"""Once a year, at midnight on 1 January: the timer stays out of the way."""
EVERY_SECOND = "* * * * * *"


async def _start(tmp_path: Path, name: str, timer_schedule: str = NEVER,
                 app_dir: Path = APP) -> RunningStack:
    holds = tmp_path / "holds"
    holds.mkdir(exist_ok=True)
    return await start_stack(
        app_dir=app_dir, data_dir=tmp_path / "data", log_path=ARTIFACTS / f"{name}.stack.log",
        env={"HOLD_DIR": str(holds), "HOLD_TIMER_SCHEDULE": timer_schedule})


async def _exit_code(stack: RunningStack, timeout: float) -> int:
    try:
        return await asyncio.wait_for(stack.process.wait(), timeout)
    finally:
        await stack.stop()  # kills it if it is still running


async def _count(stack: RunningStack, http: aiohttp.ClientSession, expected: str) -> None:
    """Until the Counter entity reads ``expected`` (a queued signal runs shortly after start)."""
    async with asyncio.timeout(TIMEOUT):
        while True:
            async with http.get(f"{stack.api_url}/count") as reply:
                assert reply.status == 200
                if await reply.text() == expected:
                    return
            await asyncio.sleep(0.05)


@pytest.mark.parametrize("trigger", ["http", "timer"])
async def test_stack_stop_lets_running_functions_finish_their_durable_calls(
    trigger: str, tmp_path: Path
) -> None:
    """SIGINT while a function is mid-run: the host waits for it, answers its entity signal,
    and the stack exits 0 promptly once it is done; the signal is kept."""
    name = "hold" if trigger == "http" else "hold_timer"
    stack = await _start(tmp_path, f"test_stack_stop_{trigger}",
                         NEVER if trigger == "http" else EVERY_SECOND)
    timeout = aiohttp.ClientTimeout(total=TIMEOUT * 2)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        call = (asyncio.ensure_future(http.get(f"{stack.api_url}/hold")) if trigger == "http"
                else None)
        try:
            await stack.wait_for_line(rf"Executing 'Functions\.{name}'")
            stack.process.send_signal(signal.SIGINT)
            await stack.wait_for_line(r"waiting up to \S+ s for 1 function invocation")
            (tmp_path / "holds" / name).touch()
            if call is not None:
                reply = await call
                assert reply.status == 200
                assert await reply.text() == "signalled"
            assert await _exit_code(stack, STOP_TIMEOUT) == 0
        finally:
            if call is not None and not call.done():
                call.cancel()
        assert not [line for line in stack.lines if "cancelled" in line]
        again = await _start(tmp_path, f"test_stack_stop_{trigger}_again")
        try:
            await _count(again, http, "1")
        finally:
            assert await again.stop() == 0


async def test_stack_stop_cancels_functions_that_never_finish(tmp_path: Path) -> None:
    """Functions that never return (one async, one sync in a worker thread) are cancelled
    after the grace, their callers get no answer, and the stack still exits 0: the thread
    does not keep the process alive."""
    stack = await _start(tmp_path, "test_stack_stop_stuck")
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT * 2)) as http:
        calls = [asyncio.ensure_future(http.get(f"{stack.api_url}/{name}"))
                 for name in ("hold", "hold_sync")]
        try:
            await stack.wait_for_line(r"Executing 'Functions\.hold'")
            await stack.wait_for_line(r"Executing 'Functions\.hold_sync'")
            stack.process.send_signal(signal.SIGINT)
            assert await _exit_code(stack, TIMEOUT) == 0
            for call in calls:
                with pytest.raises(aiohttp.ClientError):
                    await call
        finally:
            for call in calls:
                call.cancel()
    log = stack.log_text()
    assert "2 function invocation(s) still running after 5 s were cancelled" in log
    assert "1 function call(s) still running in worker threads" in log


async def test_stack_stop_during_a_restart_finishes_the_restart_first(tmp_path: Path) -> None:
    """Ctrl-C while a change of the app's files restarts the host and the old host waits for
    a running function: the restart runs to its end (the old host released, the new one
    started), then the stack stops both cleanly."""
    app = tmp_path / "app"
    shutil.copytree(APP, app, ignore=shutil.ignore_patterns("__pycache__"))
    stack = await _start(tmp_path, "test_stack_stop_during_restart", app_dir=app)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT * 2)) as http:
        call = asyncio.ensure_future(http.get(f"{stack.api_url}/hold"))
        try:
            await stack.wait_for_line(r"Executing 'Functions\.hold'")
            (app / "function_app.py").write_text(
                (app / "function_app.py").read_text(encoding="utf-8") + "\n", encoding="utf-8")
            await stack.wait_for_line(r"changed: restarting the host")
            await stack.wait_for_line(r"waiting up to \S+ s for 1 function invocation")
            stack.process.send_signal(signal.SIGINT)
            (tmp_path / "holds" / "hold").touch()
            reply = await call
            assert reply.status == 200
            assert await _exit_code(stack, TIMEOUT) == 0
        finally:
            call.cancel()
    log = stack.log_text()
    assert "the host serves" in log  # the new host started
    assert log.count("host stopped") == 2  # the old host and the new one, each released
