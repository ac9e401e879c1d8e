"""A small keep-alive HTTP/1.1 client for the stack's own calls: the service's upstream calls to
the Functions host and the host's REST calls to the SignalR service.

Each chat message crosses both, so their cost is paid per message: on the benchmark machine a
call through aiohttp's ``ClientSession``, with the tracing its resends needed, costs 90-100 µs
of the client's CPU (a writer task per request, timers, cookies, trace signals), and a call
through this client 20-25 µs (benchmarks/RESULTS.md). It writes each request with one
``write`` and parses answers with httptools (llhttp, the parser of Node.js).

It does what both callers need, as .NET's ``HttpClient`` (SocketsHttpHandler) does for Azure
SignalR Service and for the Functions host: a pool of idle connections per origin, TLS with
the system's trust store for ``https``, bodies framed by ``Content-Length``, ``chunked`` or the
connection's close, informational (1xx) answers skipped, and a call whose kept-alive
connection closes before any of its answer arrives sent again on another connection, up to
three times (dotnet/runtime ``HttpConnectionPool``: ``RetryOnConnectionFailure``). It follows no
redirects, keeps no cookies, asks for no compression and uses no proxy.

Errors: :class:`ClosedBeforeAnswer` (an ``OSError``) when the server closed without answering,
``ConnectionResetError`` when it closed partway through the answer, :class:`BadAnswer` when the
answer is not HTTP, ``TimeoutError`` past the deadline, ``OSError`` when it cannot connect and
``ValueError`` for a request that cannot be written (a newline in a header).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

import httptools
from yarl import URL

__all__ = ["RESENDS_ON_A_CLOSED_CONNECTION", "Answer", "BadAnswer", "ClosedBeforeAnswer",
           "HttpClient"]

RESENDS_ON_A_CLOSED_CONNECTION = 3
"""dotnet/runtime's SocketsHttpHandler: at most three resends of one request."""

IDLE_TIMEOUT = 60.0
"""Seconds an idle connection is kept (SocketsHttpHandler.PooledConnectionIdleTimeout)."""

MAX_CONNECTIONS = 100
"""Open connections per client at most; more calls wait for one (aiohttp's default limit)."""

_FORBIDDEN = frozenset("\r\n\0")


class ClosedBeforeAnswer(ConnectionError):
    """The connection closed before any byte of the answer arrived."""

    def __init__(self, reused: bool) -> None:
        super().__init__("the server closed the connection without answering")
        self.reused = reused
        """It had carried an earlier call: a kept-alive connection the server closed."""


class BadAnswer(OSError):
    """What came back is not an HTTP/1.1 answer."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes
    """The whole body, or its first ``limit + 1`` bytes when it is longer."""


class _Connection(asyncio.Protocol):
    """One connection, one call at a time; httptools calls the ``on_*`` methods."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.used = False
        self.closed = False
        self.idle_since = 0.0
        self._answer: asyncio.Future[Answer] | None = None
        self._limit = 0
        self._reset()

    def _reset(self) -> None:
        self._received = False
        self._framed = False  # Content-Length or chunked: else the body ends with the connection
        self._headers_done = False
        self._whole = False  # the answer came to its end, on a connection that stays open
        self._body: list[bytes] = []
        self._size = 0

    # -- calls -------------------------------------------------------------------------------
    async def call(self, request: bytes, limit: int) -> Answer:
        assert self.transport is not None and self._answer is None
        reused = self.used
        self.used = True
        self._limit = limit
        self._reset()
        self._answer = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        try:
            return await self._answer
        except ClosedBeforeAnswer:
            raise ClosedBeforeAnswer(reused) from None
        finally:
            self._answer = None
            if not self.keep():
                self.close()

    def keep(self) -> bool:
        """Whether the connection can carry another call (the last answer came whole)."""
        return not self.closed and self._answer is None and self._whole

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _finish(self, result: Answer | BaseException) -> None:
        answer = self._answer
        if answer is None or answer.done():
            return
        if isinstance(result, BaseException):
            answer.set_exception(result)
        else:
            answer.set_result(result)

    def _complete(self) -> None:
        self._headers_done = False
        self._finish(Answer(self.parser.get_status_code(), b"".join(self._body)))

    # -- asyncio.Protocol --------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self._answer is None:  # nothing was asked: a server that talks out of turn
            self.close()
            return
        self._received = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._finish(BadAnswer(f"not an HTTP answer: {exc}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._headers_done and not self._framed:
            self._complete()  # the body was delimited by the close
        elif not self._received:
            self._finish(ClosedBeforeAnswer(reused=False))
        else:
            self._finish(ConnectionResetError("the connection closed partway through the answer"))

    # -- httptools callbacks -----------------------------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() in (b"content-length", b"transfer-encoding"):
            self._framed = True

    def on_headers_complete(self) -> None:
        self._headers_done = True

    def on_body(self, body: bytes) -> None:
        room = self._limit + 1 - self._size
        if room <= 0:
            return
        self._body.append(body[:room])
        self._size += min(len(body), room)
        if self._size > self._limit:  # the caller refuses it; the rest is not read
            self._complete()

    def on_message_complete(self) -> None:
        if 100 <= self.parser.get_status_code() < 200:  # informational: the answer follows
            self._reset()
            self._received = True
        elif self._size <= self._limit:
            # Asked now: once the message is over, the parser no longer knows.
            self._whole = self.parser.should_keep_alive()
            self._complete()


def _request_bytes(method: str, url: URL, headers: Mapping[str, str], body: bytes | None) -> bytes:
    lines = [f"{method} {url.raw_path_qs} HTTP/1.1", f"Host: {url.host_port_subcomponent}"]
    for name, value in headers.items():
        if _FORBIDDEN.intersection(name) or _FORBIDDEN.intersection(value) or ":" in name:
            raise ValueError(f"header {name!r} cannot be written")
        lines.append(f"{name}: {value}")
    if body is not None or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body or b'')}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


class HttpClient:
    """Calls over pooled keep-alive connections; :meth:`close` closes them all."""

    def __init__(self, *, max_connections: int = MAX_CONNECTIONS,
                 tls: ssl.SSLContext | None = None) -> None:
        """``tls``: the context for ``https`` (default: the system's trust store)."""
        self._idle: dict[tuple[str, str, int], deque[_Connection]] = {}
        self._open = 0
        self._max = max_connections
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._tls = tls
        self._closed = False

    async def request(self, method: str, url: URL, body: bytes | None,
                      headers: Mapping[str, str], *, limit: int, timeout: float) -> Answer:
        """Send one request and read its answer, within ``timeout`` seconds in all."""
        if method == "HEAD":
            raise ValueError("HEAD is not supported")  # its answer's length says no body follows
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f"not an http(s) URL: {url}")
        request = _request_bytes(method, url, headers, body)
        origin = (url.scheme, url.host, url.port or 0)
        resends = 0
        async with asyncio.timeout(timeout):
            while True:
                connection = self._take_idle(origin) or await self._connect(origin)
                try:
                    answer = await connection.call(request, limit)
                except ClosedBeforeAnswer as exc:
                    # A kept-alive connection that turns out closed is what a server that
                    # closes idle connections leaves behind; a new one closing is its answer.
                    if not exc.reused or resends == RESENDS_ON_A_CLOSED_CONNECTION:
                        raise
                    resends += 1
                    continue
                finally:
                    self._release(origin, connection)
                return answer

    async def close(self) -> None:
        self._closed = True
        for pool in self._idle.values():
            for connection in pool:
                connection.close()
        self._idle.clear()

    def _take_idle(self, origin: tuple[str, str, int]) -> _Connection | None:
        pool = self._idle.get(origin)
        now = time.monotonic()
        while pool:
            connection = pool.pop()  # the most recently used: the least likely to be closed
            if not connection.closed and now - connection.idle_since < IDLE_TIMEOUT:
                return connection
            self._forget(connection)
        return None

    async def _connect(self, origin: tuple[str, str, int]) -> _Connection:
        if self._closed:
            raise ConnectionError("the client is closed")
        while self._open >= self._max and not self._make_room():
            waiter = asyncio.get_running_loop().create_future()
            self._waiting.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._wake_one()  # woken as it was cancelled: the next one may go
                raise
            finally:
                if waiter in self._waiting:
                    self._waiting.remove(waiter)
            if (connection := self._take_idle(origin)) is not None:
                return connection
        scheme, host, port = origin
        self._open += 1
        try:
            _, connection = await asyncio.get_running_loop().create_connection(
                _Connection, host, port, ssl=self._tls_context() if scheme == "https" else None)
        except BaseException:
            self._open -= 1
            self._wake_one()
            raise
        return connection

    def _make_room(self) -> bool:
        """Close an idle connection (to any origin), if there is one, so that a new one fits."""
        for pool in self._idle.values():
            if pool:
                self._forget(pool.popleft())
                return True
        return False

    def _release(self, origin: tuple[str, str, int], connection: _Connection) -> None:
        if connection.closed or self._closed or not connection.keep():
            connection.close()
            self._forget(connection)
            return
        connection.idle_since = time.monotonic()
        self._idle.setdefault(origin, deque()).append(connection)
        self._wake_one()

    def _forget(self, connection: _Connection) -> None:
        connection.close()
        self._open -= 1
        self._wake_one()

    def _wake_one(self) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = ssl.create_default_context()
        return self._tls
