"""Command-line entry points run as child processes, ended on every exit path."""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import sys
from collections.abc import AsyncIterator, Callable

from .stack import ROOT
from .timeouts import TIMEOUT

__all__ = ["cli_process", "read_until"]


def _ignore_sigint() -> None:
    """What a shell does to a background job (``cmd &``): SIGINT ignored from the start."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _preexec(background: bool, more: Callable[[], None] | None) -> Callable[[], None] | None:
    if not background and more is None:
        return None

    def run() -> None:
        if background:
            _ignore_sigint()
        if more is not None:
            more()

    return run


@contextlib.asynccontextmanager
async def cli_process(
    *args: str, background: bool = False, env: dict[str, str] | None = None,
    preexec: Callable[[], None] | None = None,
) -> AsyncIterator[asyncio.subprocess.Process]:
    """``python <args>`` with stdout and stderr merged into ``stdout``; killed if still
    running when the block ends, whatever happened inside it (no orphans)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, *args, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        preexec_fn=_preexec(background, preexec),
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def read_until(process: asyncio.subprocess.Process, pattern: str,
                     timeout: float = TIMEOUT) -> tuple[re.Match[str], list[str]]:
    """The first output line matching ``pattern``, and every line read so far."""
    assert process.stdout is not None
    lines: list[str] = []

    async def scan() -> re.Match[str]:
        assert process.stdout is not None
        while True:
            raw = await process.stdout.readline()
            if not raw:
                raise AssertionError("the process ended first:\n" + "".join(lines[-30:]))
            line = raw.decode(errors="replace")
            lines.append(line)
            found = re.search(pattern, line)
            if found:
                return found

    try:
        return await asyncio.wait_for(scan(), timeout), lines
    except TimeoutError:
        raise AssertionError(f"no line matching {pattern!r} within {timeout} s:\n"
                             + "".join(lines[-30:])) from None
