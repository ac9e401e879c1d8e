"""A small keep-alive HTTP/1.1 client for the stack's own calls: the service's upstream calls to
the Functions host and the host's REST calls to the SignalR service.

Each chat message crosses both, so their cost is paid per message: on the benchmark machine a
call through aiohttp's ``ClientSession``, with the tracing its resends needed, costs 87-100 µs
of the client's CPU (a writer task per request, timers, cookies, trace signals), and a call
through this client 19-26 µs (benchmarks/RESULTS.md). It writes each request with one
``write`` and parses answers with httptools (llhttp, the parser of Node.js).

It does what both callers need, as .NET's ``HttpClient`` (SocketsHttpHandler) does for Azure
SignalR Service and for the Functions host: a pool of idle connections per origin, TLS with
the system's trust store for ``https``, bodies framed by ``Content-Length``, ``chunked`` or the
connection's close, informational (1xx) answers skipped, and a call whose kept-alive
connection closes before any of its answer arrives sent again on another connection, up to
three times (dotnet/runtime ``HttpConnectionPool``: ``RetryOnConnectionFailure``). It follows no
redirects, keeps no cookies, asks for no compression, uses no proxy and sends no credentials
from a URL. A hostile server gets nothing from it but an error: an answer's head is limited
to 64 KB, its body to the caller's limit, bytes nobody asked for close the connection, and a
call that does not end well aborts its connection rather than leave it open.

Errors: :class:`ClosedBeforeAnswer` (an ``OSError``) when the server closed without answering,
``ConnectionResetError`` when it closed partway through the answer, :class:`BadAnswer` when the
answer is not HTTP, ``TimeoutError`` past the deadline, ``OSError`` when it cannot connect and
``ValueError`` for a request that cannot be written (a newline in a header).
"""

from __future__ import annotations

import asyncio
import re
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
"""Open connections per client at most; more calls wait for one, in turn (aiohttp's limit)."""

MAX_HEAD = 64 * 1024
"""Bytes of an answer's status line and headers at most (SocketsHttpHandler's default)."""

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_SET_BY_THE_CLIENT = frozenset({"host", "content-length", "transfer-encoding", "connection"})

Origin = tuple[str, str, int]


class ClosedBeforeAnswer(ConnectionError):
    """The connection closed before any byte of the answer arrived."""

    def __init__(self, reused: bool) -> None:
        super().__init__("the server closed the connection without answering")
        self.reused = reused
        """It had carried an earlier call: a kept-alive connection the server closed."""


class BadAnswer(OSError):
    """What came back is not an HTTP/1.1 answer to the request."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes
    """The whole body, or its first ``limit + 1`` bytes when it is longer."""


class _Stop(Exception):
    """Raised in a parser callback to stop parsing: what follows is not for this call."""


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
        self._head = 0  # bytes read in chunks that ended before the headers did
        self._header_bytes = 0  # names and values of the headers parsed
        self._framed = False  # Content-Length or chunked: else the body ends with the connection
        self._headers_done = False
        self._ended = False  # the final answer is complete: any byte after it is out of turn
        self._reusable = False  # ...and the connection may carry another call
        self._body = bytearray()

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
                self.close(abort=not self._ended)

    def keep(self) -> bool:
        """Whether the connection can carry another call (the last answer came whole)."""
        return not self.closed and self._answer is None and self._reusable

    def close(self, *, abort: bool = False) -> None:
        """Close; ``abort``: at once, dropping unsent bytes (a call that did not end well)."""
        self.closed = True
        if self.transport is not None:
            if abort:
                self.transport.abort()
            else:
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
        self._ended = True
        self._finish(Answer(self.parser.get_status_code(), bytes(self._body)))

    def _fail(self, error: BaseException) -> None:
        self._reusable = False
        self._finish(error)
        self.close(abort=True)

    # -- asyncio.Protocol --------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self._answer is None or self._ended:  # nothing was asked: out of turn
            self._fail(BadAnswer("the server sent bytes nobody asked for"))
            return
        self._received = True
        try:
            self.parser.feed_data(data)
        except Exception as exc:  # HttpParserError, HttpParserUpgrade, _Stop from a callback
            reason = (f"the answer's headers pass {MAX_HEAD} bytes"
                      if self._header_bytes > MAX_HEAD
                      else f"not an HTTP/1.1 answer: {type(exc).__name__}")
            self._fail(BadAnswer(reason))
            return
        if not self._headers_done:
            self._head += len(data)
            if self._head > MAX_HEAD:  # httptools keeps a header's value whole until it ends
                self._fail(BadAnswer(f"the answer's headers pass {MAX_HEAD} bytes"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._headers_done and not self._framed and exc is None:
            self._complete()  # the body was delimited by the close
        elif not self._received:
            self._finish(ClosedBeforeAnswer(reused=False))
        else:
            self._finish(ConnectionResetError("the connection closed partway through the answer"))

    # -- httptools callbacks -----------------------------------------------------------------
    def on_message_begin(self) -> None:
        if self._ended:
            raise _Stop  # a second answer to one request

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value)
        if self._header_bytes > MAX_HEAD:
            raise _Stop  # a head that came whole in one read; data_received sees the others
        name = name.lower()
        if name == b"content-length" or (
                name == b"transfer-encoding" and value.lower().rstrip().endswith(b"chunked")):
            self._framed = True

    def on_headers_complete(self) -> None:
        if self.parser.get_status_code() == 101:
            raise _Stop  # a switch of protocols nobody asked for
        self._headers_done = True

    def on_body(self, body: bytes) -> None:
        room = self._limit + 1 - len(self._body)
        if room <= 0:
            return
        self._body += body[:room]
        if len(self._body) > self._limit:  # the caller refuses it; the rest is not read
            self._complete()

    def on_message_complete(self) -> None:
        if self._ended:
            return
        if 100 <= self.parser.get_status_code() < 200:  # informational: the answer follows
            self._reset()
            self._received = True
            return
        # Asked now: once the message is over, the parser no longer knows.
        self._reusable = self.parser.should_keep_alive()
        self._complete()


def _request_bytes(method: str, url: URL, headers: Mapping[str, str], body: bytes | None) -> bytes:
    target = url.raw_path_qs
    if not _TOKEN.fullmatch(method) or " " in target or _CONTROL.search(target):
        raise ValueError(f"cannot write the request line for {method} {target!r}")
    lines = [f"{method} {target} HTTP/1.1", f"Host: {url.host_port_subcomponent}"]
    for name, value in headers.items():
        if (not _TOKEN.fullmatch(name) or name.lower() in _SET_BY_THE_CLIENT
                or _CONTROL.search(value)):
            raise ValueError(f"header {name!r} cannot be written")
        lines.append(f"{name}: {value}")
    if body is not None or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body or b'')}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


class HttpClient:
    """Calls over pooled keep-alive connections; :meth:`close` closes them all.

    ``_open`` counts open connections and the slots of connections being opened: a call that
    frees one hands it to the first call waiting, so waiting calls are served in turn.
    """

    def __init__(self, *, max_connections: int = MAX_CONNECTIONS,
                 tls: ssl.SSLContext | None = None) -> None:
        """``tls``: the context for ``https`` (default: the system's trust store)."""
        self._idle: dict[Origin, deque[_Connection]] = {}
        self._open = 0
        self._max = max_connections
        self._waiting: deque[tuple[Origin, asyncio.Future[_Connection | None]]] = deque()
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
                connection = await self._acquire(origin)
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
        while self._waiting:
            _, waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_exception(ConnectionError("the client is closed"))

    # -- the pool ------------------------------------------------------------------------------
    async def _acquire(self, origin: Origin) -> _Connection:
        if self._closed:
            raise ConnectionError("the client is closed")
        if not self._waiting:  # else those waiting go first
            if (connection := self._take_idle(origin)) is not None:
                return connection
            if self._open < self._max:
                self._open += 1
                return await self._connect(origin)
            if self._close_an_idle_one():  # its slot is ours
                return await self._connect(origin)
        waiter: asyncio.Future[_Connection | None] = asyncio.get_running_loop().create_future()
        self._waiting.append((origin, waiter))
        try:
            handed = await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # handed over as it was cancelled
                given = waiter.result()
                if given is None:
                    self._free_slot()
                else:
                    self._release(origin, given)
            raise
        finally:
            if (origin, waiter) in self._waiting:
                self._waiting.remove((origin, waiter))
        if handed is not None and not handed.closed:
            return handed
        if handed is not None:
            handed.close()
        return await self._connect(origin)  # a slot was handed over

    async def _connect(self, origin: Origin) -> _Connection:
        """Open a connection in a slot already counted in ``_open``."""
        scheme, host, port = origin
        try:
            _, connection = await asyncio.get_running_loop().create_connection(
                _Connection, host, port, ssl=self._tls_context() if scheme == "https" else None)
        except BaseException:
            self._free_slot()
            raise
        return connection

    def _release(self, origin: Origin, connection: _Connection) -> None:
        if connection.closed or self._closed or not connection.keep():
            connection.close(abort=not connection.keep())
            self._free_slot()
            return
        for index, (wanted, waiter) in enumerate(self._waiting):
            if wanted == origin and not waiter.done():
                del self._waiting[index]
                waiter.set_result(connection)  # straight to the first caller waiting for it
                return
        if self._waiting:  # they wait for other origins: this slot serves them better
            connection.close()
            self._free_slot()
            return
        now = time.monotonic()
        connection.idle_since = now
        pool = self._idle.setdefault(origin, deque())
        while pool and now - pool[0].idle_since >= IDLE_TIMEOUT:  # the oldest first
            pool.popleft().close()
            self._free_slot()
        pool.append(connection)

    def _take_idle(self, origin: Origin) -> _Connection | None:
        pool = self._idle.get(origin)
        now = time.monotonic()
        while pool:
            connection = pool.pop()  # the most recently used: the least likely to be closed
            if not connection.closed and now - connection.idle_since < IDLE_TIMEOUT:
                return connection
            connection.close()
            self._free_slot()
        return None

    def _close_an_idle_one(self) -> bool:
        """Close an idle connection to any origin, keeping its slot for the caller."""
        for pool in self._idle.values():
            if pool:
                pool.popleft().close()
                return True
        return False

    def _free_slot(self) -> None:
        """A connection closed (or was never opened): its slot goes to the first in line."""
        while self._waiting:
            _, waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._open -= 1

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = ssl.create_default_context()
        return self._tls
