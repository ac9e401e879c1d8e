"""Wait for what the host logs (an invocation finishing, a start-up line) without sleeping."""

from __future__ import annotations

import asyncio
import logging
import re

from tests.support.timeouts import TIMEOUT

__all__ = ["HostLogs"]


class HostLogs(logging.Handler):
    """Collects the records of the ``emulator.functions`` loggers while a test runs."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self._loop = loop
        self._changed = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname} {record.getMessage()}")
        self._loop.call_soon_threadsafe(self._changed.set)

    def matching(self, pattern: str) -> list[str]:
        regex = re.compile(pattern)
        return [line for line in self.lines if regex.search(line)]

    async def wait_for(self, pattern: str, count: int = 1) -> list[str]:
        """The first ``count`` lines matching ``pattern``; fails after TIMEOUT seconds."""

        async def seen() -> list[str]:
            while len(found := self.matching(pattern)) < count:
                self._changed.clear()
                await self._changed.wait()
            return found[:count]

        try:
            return await asyncio.wait_for(seen(), TIMEOUT)
        except TimeoutError:
            raise AssertionError(f"no {count} log line(s) matching {pattern!r} in:\n"
                                 + "\n".join(self.lines)) from None
