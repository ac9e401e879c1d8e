"""Run the offline stack the way users do — ``python -m emulator`` — on free loopback ports
(from a warm interpreter: :mod:`tests.support.warm_python`)."""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import shutil
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .timeouts import TIMEOUT
from .warm_python import ROOT, WarmProcess, python_module

__all__ = ["EXTRA_ARGS", "ROOT", "RunningStack", "start_stack"]

EXTRA_ARGS = tuple(shlex.split(os.environ.get("TEST_STACK_ARGS", "")))
"""Flags every stack a test starts gets, e.g. ``TEST_STACK_ARGS=--queue-polling`` (make
test-queue-polling runs the chat's integration tests so)."""
READY = re.compile(rb"^emulator ready: service=(\S+) host=(\S+) page=(\S+)")


@dataclass
class RunningStack:
    process: asyncio.subprocess.Process | WarmProcess
    service_url: str
    host_url: str
    page_url: str
    log_path: Path
    lines: list[str] = field(default_factory=list)
    pump: asyncio.Task[None] | None = None
    new_line: asyncio.Event = field(default_factory=asyncio.Event)
    ended: bool = False
    """The process closed its output: no line is to come."""

    @property
    def api_url(self) -> str:
        return f"{self.host_url}/api"

    def log_text(self) -> str:
        return "\n".join(self.lines)

    async def wait_for_line(self, pattern: str, timeout: float = TIMEOUT) -> str:
        """The first line of the stack's output (so far or to come) that matches ``pattern``."""
        regex = re.compile(pattern)
        checked = 0
        async with asyncio.timeout(timeout):
            while True:
                for line in self.lines[checked:]:
                    if regex.search(line):
                        return line
                checked = len(self.lines)
                if self.pump is None or self.ended:
                    raise AssertionError(f"the stack ended without a line matching {pattern!r}")
                self.new_line.clear()
                await self.new_line.wait()

    async def stop(self) -> int:
        """Ctrl-C, as a user would; returns the exit code. A stack still running after the
        timeout is killed, once its threads' stacks are in its log (``py-spy dump``)."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(self.process.wait(), TIMEOUT)
            except TimeoutError:
                dump = (f"still running {TIMEOUT:g} s after SIGINT; its threads:\n"
                        + await _thread_dump(self.process.pid))
                self.lines.extend(dump.splitlines())
                with self.log_path.open("a", encoding="utf-8") as log:
                    log.write(dump + "\n")
                # Shown with the failing test (pytest prints what it wrote), where CI logs it.
                print(f"--- {self.log_path.name}, the end ---", *self.lines[-80:],
                      sep="\n", file=sys.stderr)
                self.process.kill()
                await self.process.wait()
        if self.pump is not None:
            await self.pump  # every line the process wrote is in self.lines now
        return self.process.returncode or 0


async def _thread_dump(pid: int) -> str:
    """What each thread of ``pid`` is doing, from py-spy (requirements-test.txt) if it is
    there."""
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if spy is None:
        return "(py-spy is not installed)"
    dump = await asyncio.create_subprocess_exec(
        spy, "dump", "--pid", str(pid), stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)
    try:
        output, _ = await asyncio.wait_for(dump.communicate(), TIMEOUT)
    except TimeoutError:
        dump.kill()
        await dump.wait()
        return "(py-spy did not answer)"
    return output.decode(errors="replace")


async def _pump(stack: RunningStack) -> None:
    assert stack.process.stdout
    with stack.log_path.open("a", encoding="utf-8") as log:
        async for raw in stack.process.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            stack.lines.append(line)
            stack.new_line.set()
            log.write(line + "\n")
    stack.ended = True
    stack.new_line.set()


async def start_stack(
    *,
    data_dir: Path,
    log_path: Path,
    app_dir: Path = ROOT,
    extra_args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    service_port: int = 0,
) -> RunningStack:
    """Start the stack on 127.0.0.1 and wait until it says it is ready.

    Ports default to free ones; pass the ports of a stopped stack to restart it in place
    (same data dir: entity state survives; same origin: pages reconnect on their own).
    """
    process = await python_module(
        "emulator",
        "--app-dir",
        str(app_dir),
        "--bind",
        "127.0.0.1",
        "--service-port",
        str(service_port),
        "--host-port",
        "0",
        "--data-dir",
        str(data_dir),
        *EXTRA_ARGS,
        *extra_args,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    assert process.stdout
    seen: list[str] = []
    try:
        async with asyncio.timeout(TIMEOUT * 2):
            while True:
                raw = await process.stdout.readline()
                if not raw:
                    raise RuntimeError("the stack exited before it was ready:\n" + "\n".join(seen))
                seen.append(raw.decode(errors="replace").rstrip("\n"))
                match = READY.match(raw)
                if match:
                    break
    except BaseException:
        if process.returncode is None:
            process.kill()
            await process.wait()
        log_path.write_text("\n".join(seen) + "\n", encoding="utf-8")
        raise
    log_path.write_text("\n".join(seen) + "\n", encoding="utf-8")
    service, host, page = (group.decode() for group in match.groups())
    stack = RunningStack(process, service, host, page, log_path, lines=seen)
    stack.pump = asyncio.get_running_loop().create_task(_pump(stack))
    return stack
