"""Drive the official ``@microsoft/signalr`` client under Node (``tests/node/client.mjs``).

One Node process per test process holds every client's connection, as a Node app with several
connections would: starting Node and loading the client costs about 0.3 s of CPU, which once per
client was a sixth of the whole suite's. Each client keeps its own HttpClient (cookies, token),
its own events and its own lifetime; the process outlives the tests, so it is read by a thread
and each client hears its events on the event loop of the test that opened it.
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import contextlib
import itertools
import json
import shutil
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from .timeouts import TIMEOUT

__all__ = ["NodeClient", "NodeClientError"]

DRIVER = Path(__file__).resolve().parent.parent / "node" / "client.mjs"
Event = dict[str, Any]


class NodeClientError(Exception):
    """The client reported an error (failed start, rejected invoke)."""


class _NodeProcess:
    """The Node process of this test process, started on first use and again if it died."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._clients: dict[int, NodeClient] = {}
        self._stderr: collections.deque[str] = collections.deque(maxlen=40)
        atexit.register(self.close)

    def open(self, client: NodeClient, command: Event) -> None:
        with self._lock:
            self._stop_abandoned()
            if self._process is None or self._process.poll() is not None:
                self._start()
            self._clients[client.key] = client
            self._write(command)

    def send(self, command: Event) -> None:
        with self._lock:
            self._write(command)

    def stderr_tail(self) -> str:
        return "".join(self._stderr)

    def _start(self) -> None:
        node = shutil.which("node")
        if node is None:
            raise NodeClientError("node is not installed")
        process = subprocess.Popen(
            [node, str(DRIVER)], cwd=DRIVER.parent.parent.parent,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        assert process.stdout and process.stderr
        self._process, self._clients = process, {}
        threading.Thread(target=self._read, args=(process.stdout, self._clients),
                         daemon=True).start()
        threading.Thread(target=self._read_stderr, args=(process.stderr,), daemon=True).start()

    def _write(self, command: Event) -> None:
        assert self._process and self._process.stdin
        try:
            self._process.stdin.write(json.dumps(command).encode() + b"\n")
            self._process.stdin.flush()
        except BrokenPipeError:
            raise NodeClientError("the Node process has exited:\n" + self.stderr_tail()) from None

    def _stop_abandoned(self) -> None:
        """Stop the connections of tests that ended without stopping them."""
        for key, client in list(self._clients.items()):
            if client.abandoned():
                del self._clients[key]
                self._write({"client": key, "op": "stop"})

    @staticmethod
    def _read(stdout: IO[bytes], clients: dict[int, NodeClient]) -> None:
        """Hand each event to its client; when the process ends, its clients have exited."""
        for line in stdout:
            event = json.loads(line)
            client = clients.get(event.pop("client"))
            if client is not None:
                if event["type"] == "exited":
                    clients.pop(client.key, None)
                client._deliver(event)
        for client in list(clients.values()):
            client._deliver({"type": "exited"})

    def _read_stderr(self, stderr: IO[bytes]) -> None:
        for line in stderr:
            self._stderr.append(line.decode(errors="replace"))

    def close(self) -> None:
        """End of the test process: Node stops every connection and exits when stdin closes."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        assert process.stdin
        process.stdin.close()
        try:
            process.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


_NODE = _NodeProcess()
_keys = itertools.count(1)


class NodeClient:
    """One official SignalR client (a HubConnection in the shared Node process); its events are
    collected as they arrive."""

    def __init__(self, url: str, **options: str | bool | None) -> None:
        self.url = url
        self.options = options
        self.key = next(_keys)
        self.events: list[Event] = []
        self.connection_id: str | None = None
        self._ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._arrived = asyncio.Event()
        self._started = False

    @property
    def stderr(self) -> str:
        """What Node wrote to stderr lately (shared by every client of this test process)."""
        return _NODE.stderr_tail()

    async def start(self) -> NodeClient:
        self._loop = asyncio.get_running_loop()
        self._started = True
        options = {name: value for name, value in self.options.items()
                   if value not in (None, False)}
        _NODE.open(self, {"client": self.key, "op": "open",
                          "options": {"url": self.url, **options}})
        event = await self.wait_for(lambda e: e["type"] in ("started", "fatal"))
        if event["type"] == "fatal":
            raise NodeClientError(f"start failed: {event['error']}")
        self.connection_id = event["connectionId"]
        return self

    def abandoned(self) -> bool:
        """Its test has ended (its event loop is closed) but the connection is still open."""
        return self._loop is not None and self._loop.is_closed()

    def _deliver(self, event: Event) -> None:
        """From the reader thread: hand ``event`` to the loop of the test that owns the client."""
        loop = self._loop
        if loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop is closed: the test is over
            loop.call_soon_threadsafe(self._append, event)

    def _append(self, event: Event) -> None:
        self.events.append(event)
        self._arrived.set()

    def _exited(self) -> bool:
        return any(e["type"] == "exited" for e in self.events)

    async def wait_for(self, predicate: Callable[[Event], bool], timeout: float = TIMEOUT) -> Event:
        """The first event (already seen or still to come) that satisfies ``predicate``."""

        def find() -> Event | None:
            return next((e for e in self.events if predicate(e)), None)

        try:
            async with asyncio.timeout(timeout):
                while (found := find()) is None:
                    self._arrived.clear()
                    await self._arrived.wait()
        except TimeoutError:
            raise AssertionError(
                f"no matching event within {timeout}s; events: {self.events}; "
                f"stderr: {self.stderr[-2000:]}"
            ) from None
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
        command_id = next(self._ids)
        _NODE.send({"client": self.key, "id": command_id, "op": op, "method": method,
                    "args": list(args)})
        return await self.wait_for(
            lambda e: (e.get("id") == command_id and e["type"] in ("result", "error", "sent"))
            or e["type"] == "exited"
        )

    async def invoke(self, method: str, *args: Any) -> Any:
        """``connection.invoke``: the hub result, or :class:`NodeClientError` with its message."""
        event = await self._command("invoke", method, args)
        if event["type"] != "result":
            raise NodeClientError(event.get("error", "the connection has ended"))
        return event["result"]

    async def send(self, method: str, *args: Any) -> None:
        event = await self._command("send", method, args)
        if event["type"] != "sent":
            raise NodeClientError(event.get("error", "the connection has ended"))

    async def stop(self) -> None:
        """``connection.stop()``; returns once the connection is gone (``exited``)."""
        if not self._started or self._exited():
            return
        _NODE.send({"client": self.key, "op": "stop"})
        await self.wait_for(lambda e: e["type"] == "exited")

    async def __aenter__(self) -> NodeClient:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
