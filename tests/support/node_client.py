"""Drive the official ``@microsoft/signalr`` client under Node (``tests/node/client.mjs``)."""

from __future__ import annotations

import asyncio
import itertools
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .timeouts import TIMEOUT

__all__ = ["NodeClient", "NodeClientError"]

DRIVER = Path(__file__).resolve().parent.parent / "node" / "client.mjs"
LINE_LIMIT = 16 * 1024 * 1024
"""Longest event line read from the driver (a message can be large)."""
Event = dict[str, Any]


class NodeClientError(Exception):
    """The client reported an error (failed start, rejected invoke)."""


class NodeClient:
    """One official SignalR client in a Node process; events are collected as they arrive."""

    def __init__(self, url: str, **options: str | bool | None) -> None:
        self.url = url
        self.options = options
        self.events: list[Event] = []
        self.connection_id: str | None = None
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self.stderr = b""

    async def start(self) -> NodeClient:
        node = shutil.which("node")
        if node is None:
            raise NodeClientError("node is not installed")
        args = [node, str(DRIVER), "--url", self.url]
        for name, value in self.options.items():
            if value is True:
                args.append(f"--{name}")
            elif value not in (None, False):
                args += [f"--{name}", str(value)]
        self._process = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=DRIVER.parent.parent.parent,
            limit=LINE_LIMIT,
        )
        self._reader = asyncio.create_task(self._read())
        event = await self.wait_for(lambda e: e["type"] in ("started", "fatal"))
        if event["type"] == "fatal":
            raise NodeClientError(f"start failed: {event['error']}")
        self.connection_id = event["connectionId"]
        return self

    async def _read(self) -> None:
        assert self._process and self._process.stdout
        async for line in self._process.stdout:
            async with self._changed:
                self.events.append(json.loads(line))
                self._changed.notify_all()
        if self._process.stderr:
            self.stderr = await self._process.stderr.read()
        async with self._changed:
            self.events.append({"type": "exited"})
            self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[Event], bool], timeout: float = TIMEOUT) -> Event:
        """The first event (already seen or still to come) that satisfies ``predicate``."""

        def find() -> Event | None:
            return next((e for e in self.events if predicate(e)), None)

        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(find), timeout)
            except TimeoutError:
                raise AssertionError(
                    f"no matching event within {timeout}s; events: {self.events}; "
                    f"stderr: {self.stderr.decode(errors='replace')[-2000:]}"
                ) from None
            found = find()
            assert found is not None
            return found

    def messages(self, target: str) -> list[list[Any]]:
        """Arguments of every ``target`` invocation received so far."""
        return [e["args"] for e in self.events if e["type"] == "message" and e["target"] == target]

    async def wait_message(
        self,
        target: str,
        predicate: Callable[[list[Any]], bool] = lambda args: True,
        timeout: float = TIMEOUT,
    ) -> list[Any]:
        event = await self.wait_for(
            lambda e: e["type"] == "message" and e["target"] == target and predicate(e["args"]),
            timeout,
        )
        return event["args"]

    async def _command(self, op: str, method: str, args: tuple[Any, ...]) -> Event:
        assert self._process and self._process.stdin
        command_id = next(self._ids)
        line = json.dumps({"id": command_id, "op": op, "method": method, "args": list(args)})
        self._process.stdin.write(line.encode() + b"\n")
        await self._process.stdin.drain()
        return await self.wait_for(
            lambda e: e.get("id") == command_id and e["type"] in ("result", "error", "sent")
        )

    async def invoke(self, method: str, *args: Any) -> Any:
        """``connection.invoke``: the hub result, or :class:`NodeClientError` with its message."""
        event = await self._command("invoke", method, args)
        if event["type"] == "error":
            raise NodeClientError(event["error"])
        return event["result"]

    async def send(self, method: str, *args: Any) -> None:
        event = await self._command("send", method, args)
        if event["type"] == "error":
            raise NodeClientError(event["error"])

    async def stop(self) -> None:
        process = self._process
        if process is None or process.returncode is not None:
            return
        try:
            assert process.stdin
            process.stdin.write(b'{"op": "stop"}\n')
            await process.stdin.drain()
            await asyncio.wait_for(process.wait(), TIMEOUT)
        except (TimeoutError, ConnectionError):
            process.kill()
            await process.wait()
        if self._reader:
            await self._reader

    async def __aenter__(self) -> NodeClient:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
