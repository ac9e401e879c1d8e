"""What the command-line entry points share: listening sockets and stopping on a signal.

Every CLI stops on SIGINT and SIGTERM through the event loop's own handlers, which also
replace an inherited "ignore" (a shell starts background jobs with SIGINT ignored), so
``kill -INT`` and ``kill -TERM`` stop a background stack as Ctrl-C stops a foreground one.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import functools
import gc
import logging
import re
import resource
import signal
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .logs import OnceLog, printable

__all__ = [
    "KEEPALIVE_TIMEOUT",
    "SHUTDOWN_TIMEOUT",
    "YOUNG_COLLECTION_THRESHOLD",
    "ConnectionCounter",
    "ConnectionLimits",
    "GuardedSite",
    "bind_sockets",
    "collect_garbage_less_often",
    "make_runner",
    "page_origins",
    "quiet_loop_errors",
    "quiet_malformed_requests",
    "raise_open_files_limit",
    "release_free_memory",
    "stop_runner",
    "stop_signals",
    "url_host",
]


def bind_sockets(address: str, port: int) -> list[socket.socket]:
    """Listening sockets for every address of ``address``, all on one port (port 0 picks one)."""
    sockets: list[socket.socket] = []
    infos = socket.getaddrinfo(address, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    for family, kind, proto, _, sockaddr in infos:
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        if sockets:  # same port on every address
            sockaddr = (sockaddr[0], sockets[0].getsockname()[1], *sockaddr[2:])
        try:
            sock.bind(sockaddr)
        except OSError as error:
            sock.close()
            if sockets and family == socket.AF_INET6:
                continue  # no IPv6 loopback here: IPv4 alone will do
            for opened in sockets:
                opened.close()
            raise OSError(f"cannot listen on {address}:{port}: {error.strerror}") from None
        sock.listen(128)
        sock.setblocking(False)
        sockets.append(sock)
    return sockets


def url_host(bind: str) -> str:
    """The host part of a URL for a listening address (``localhost`` for every address)."""
    if bind in ("", "0.0.0.0", "::"):
        return "localhost"
    return f"[{bind}]" if ":" in bind else bind


def page_origins(bind: str, port: int) -> tuple[str, ...]:
    """The origins a browser uses for pages a server listening on ``bind`` serves."""
    host = url_host(bind)
    if host == "localhost" or bind in ("", "0.0.0.0", "::"):
        hosts = ["localhost", "127.0.0.1", "[::1]"]
    else:
        hosts = [host]
    return tuple(f"http://{name}:{port}" for name in hosts)


@contextlib.contextmanager
def stop_signals(stop: asyncio.Event) -> Iterator[None]:
    """Set ``stop`` on SIGINT or SIGTERM while the block runs (the loop's own handlers)."""
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for signum in signals:
        loop.add_signal_handler(signum, stop.set)
    try:
        yield
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)


# -- what a client can hold ---------------------------------------------------------------------

KEEPALIVE_TIMEOUT = 15.0
"""Seconds an idle keep-alive connection stays open (aiohttp's handler default is an hour)."""
SHUTDOWN_TIMEOUT = 2.0
"""Seconds a request still being handled after an app's own shutdown hooks ran gets before it
is cancelled (aiohttp's default is a minute). The apps wait for their own work in those hooks
(bounded), so what is left here is a client that keeps a request open."""


def make_runner(app: web.Application) -> web.AppRunner:
    """A runner for one of the stack's apps: no access log (query strings carry tokens and
    keys; each app logs its own requests), no signal handling of its own (the entry points own
    SIGINT/SIGTERM), idle keep-alive connections closed after ``KEEPALIVE_TIMEOUT``."""
    return web.AppRunner(app, handle_signals=False, access_log=None,
                         keepalive_timeout=KEEPALIVE_TIMEOUT, shutdown_timeout=SHUTDOWN_TIMEOUT)


async def stop_runner(runner: web.AppRunner) -> None:
    """Stop a runner in the order the stack's apps are written for: their shutdown hooks run
    while the sites still listen (the service closes its clients and waits for their
    ``disconnected`` calls, which may call back its REST API; the host waits for running
    functions, which may call its Durable HTTP API), then the sites close and the rest is
    released. A plain ``runner.cleanup()`` runs the same hooks after the sites closed."""
    await runner.shutdown()
    await runner.cleanup()  # runs the shutdown hooks again: each app's run once


ACCEPT_BATCH = 16
"""Sockets a listener accepts per turn of the event loop (asyncio takes the ``backlog`` it is
given for this). A refused socket is closed a few turns after it was accepted, so a flood holds
at most a few batches of them at once; the open-files budget keeps room for that."""
LISTEN_BACKLOG = 128
"""Connections the kernel queues for a listener (aiohttp's default), set after asyncio has
used ``ACCEPT_BATCH`` as the backlog."""


@dataclass(frozen=True, kw_only=True)
class ConnectionLimits:
    """Bounds on what clients can hold of a server (both servers of the stack use them)."""

    head_timeout: float = 30.0
    """Seconds a client has to send a request's line and headers once it starts one."""
    max_connections: int = 10_000
    """Open client connections at once, all servers of the process together."""
    max_per_address: int = 10_000
    """Open client connections from one address (every loopback client is 127.0.0.1)."""

    @classmethod
    def for_open_files(cls, soft_limit: int, **changes: Any) -> ConnectionLimits:
        """Limits that keep a tenth of the file descriptors (and 64) for everything else
        (upstream and REST calls, SQLite, logs) and room for the refused sockets of a flood
        that are not closed yet (four batches of accepts), so ``accept()`` never fails."""
        total = max(16, soft_limit - max(64, soft_limit // 10) - 4 * ACCEPT_BATCH)
        return cls(max_connections=total, max_per_address=total, **changes)


class ConnectionCounter:
    """Open connections per client address, shared by every guarded site of a process."""

    def __init__(self, limits: ConnectionLimits) -> None:
        self.limits = limits
        self.total = 0
        self.by_address: dict[str, int] = {}
        self.refusals = OnceLog()

    def admit(self, address: str) -> str | None:
        """Count a new connection; the reason when it must be refused instead."""
        if self.total >= self.limits.max_connections:
            return "too many connections"
        if self.by_address.get(address, 0) >= self.limits.max_per_address:
            return "too many connections from this address"
        self.total += 1
        self.by_address[address] = self.by_address.get(address, 0) + 1
        return None

    def release(self, address: str) -> None:
        self.total -= 1
        left = self.by_address.get(address, 1) - 1
        if left:
            self.by_address[address] = left
        else:
            self.by_address.pop(address, None)


_REFUSED = (b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n"
            b"Content-Type: text/plain\r\nContent-Length: %d\r\nRetry-After: 1\r\n\r\n%s")


class _GuardedProtocol(asyncio.Protocol):
    """aiohttp's protocol for one connection, behind a guard: counted, refused when over the
    limits, and closed when a request's head does not arrive in time (aiohttp itself waits for
    it forever, so a client that sends half a request could hold its socket for good)."""

    # One per client connection: slots keep it small (benchmarks/RESULTS.md, memory).
    __slots__ = ("_address", "_counter", "_deadline", "_inner", "_log", "_tail", "_transport")

    def __init__(self, inner: asyncio.Protocol, counter: ConnectionCounter,
                 log: logging.Logger) -> None:
        self._inner = inner
        self._counter = counter
        self._log = log
        self._transport: asyncio.Transport | None = None
        self._address: str | None = None
        self._deadline: asyncio.TimerHandle | None = None
        self._tail = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        peer = transport.get_extra_info("peername")
        address = str(peer[0]) if isinstance(peer, tuple) and peer else "?"
        reason = self._counter.admit(address)
        if reason is not None:
            self._counter.refusals.warning(self._log, f"refuse:{reason}",
                                           "refused a connection from %s: %s", address, reason,
                                           later=logging.DEBUG)
            body = reason.encode()
            transport.write(_REFUSED % (len(body), body))
            transport.close()
            return
        self._transport, self._address = transport, address
        self._inner.connection_made(transport)
        self._await_head()

    def _await_head(self) -> None:
        if self._deadline is None and self._transport is not None:
            loop = asyncio.get_running_loop()
            self._deadline = loop.call_later(self._counter.limits.head_timeout, self._expire)

    def _expire(self) -> None:
        self._deadline = None
        if self._transport is not None and not self._transport.is_closing():
            self._counter.refusals.warning(
                self._log, "head-timeout", "closed a connection from %s: no complete request "
                "within %.1f s", self._address, self._counter.limits.head_timeout,
                later=logging.DEBUG)
            self._transport.abort()

    def data_received(self, data: bytes) -> None:
        if self._transport is None:
            return
        if self._deadline is None and getattr(self._inner, "_current_request", None) is None:
            self._tail = b""  # nothing is being served: these bytes start a new request
            self._await_head()
        if self._deadline is not None:
            seen = self._tail + data
            if b"\r\n\r\n" in seen:
                self._deadline.cancel()
                self._deadline = None
                # Not needed until the next request starts, which resets it: a WebSocket
                # would keep these three bytes for its whole life.
                self._tail = b""
            else:
                self._tail = seen[-3:]
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._transport is not None else None

    def connection_lost(self, exc: Exception | None) -> None:
        if self._transport is None:
            return
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        assert self._address is not None
        self._counter.release(self._address)
        self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()


class GuardedSite(web.SockSite):
    """A ``SockSite`` whose connections go through the guard above; stops like any site."""

    __slots__ = ("_counter", "_log")

    def __init__(self, runner: web.BaseRunner, sock: socket.socket, counter: ConnectionCounter,
                 *, log: logging.Logger) -> None:
        super().__init__(runner, sock)
        self._counter = counter
        self._log = log

    async def start(self) -> None:
        await web.BaseSite.start(self)
        server = self._runner.server
        assert server is not None
        counter, log = self._counter, self._log

        def guarded() -> asyncio.Protocol:
            return _GuardedProtocol(server(), counter, log)

        self._server = await asyncio.get_running_loop().create_server(
            guarded, sock=self._sock, backlog=ACCEPT_BATCH)
        self._sock.listen(LISTEN_BACKLOG)  # the kernel's queue stays as long as aiohttp's


YOUNG_COLLECTION_THRESHOLD = 10_000
"""Net new container objects between two collections of the youngest generation (Python: 700)."""


def collect_garbage_less_often() -> None:
    """Collect the young generation after :data:`YOUNG_COLLECTION_THRESHOLD` net new objects.

    Python's 700 suits a small program. A process that holds the service, the host and the app
    makes that many within one message, and every hundredth young collection becomes a full
    one over everything its connections hold: in a join storm (1,000 connections in 10 s) the
    stack spent 2.5 s of its 11 s in the collector, in 14 full collections of up to 166 ms each,
    and every message in flight waited for them. With 10,000 it spent 0.6 s and made no full
    collection (benchmarks/RESULTS.md, "Join storm"). Most garbage is freed by reference
    counting anyway; only reference cycles wait for a collection, a little longer now. The
    older generations keep Python's thresholds.
    """
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, middle, old)
    gc.collect()  # what the imports left, once; the older generations start counting afresh


def raise_open_files_limit(log: logging.Logger) -> int:
    """Raise this process's soft limit of open files to its hard limit; the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError) as error:
            log.warning("cannot raise the open-files limit from %d to %d: %s", soft, hard, error)
    log.info("open files: up to %d", soft)
    return soft


def quiet_loop_errors(loop: asyncio.AbstractEventLoop, log: logging.Logger) -> None:
    """Repeated event-loop errors (``accept()`` out of files, say) are logged once at ERROR,
    then at INFO without a traceback: a flood cannot fill the disk with log lines."""
    once = OnceLog()

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        message = str(context.get("message", "event loop error"))
        error = context.get("exception")
        key = f"{message}:{type(error).__name__ if error else ''}"
        if once.seen(log, key):
            log.info("%s (%s)", message, error)
        else:
            once.mark(log, key)
            log.error("%s", message, exc_info=error)

    loop.set_exception_handler(handle)


@functools.cache
def _malloc_trim() -> Any:
    """glibc's ``malloc_trim``, or None where the C library has none (musl, macOS)."""
    name = ctypes.util.find_library("c")
    try:
        trim = ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None
    if trim is not None:
        trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def release_free_memory() -> bool:
    """Hand memory that Python has freed back to the system; True when it could.

    After a large request body is freed, glibc keeps the pages: CPython reads a body in many
    small chunks from the heap, and glibc raises its mmap threshold after the first large free,
    so later large buffers come from the heap too. ``malloc_trim(0)`` returns every free page of
    every arena (``man 3 malloc_trim``). It is thread-safe and takes from a few to a few tens
    of milliseconds here, so callers run it on a worker thread, after large bodies only.
    """
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


_CODE = re.compile(r"(code=)[^&\s'\"]*", re.IGNORECASE)


class _MalformedRequests(logging.Filter):
    """aiohttp's server logger says ``Error handling request`` at ERROR, with a traceback and
    the offending bytes (the request line with its ``?code=`` key), for every malformed request
    a client sends. This turns those records into one line: WARNING once per kind, then INFO;
    the parser's reason only, escaped, with any ``code=`` value cut out."""

    def __init__(self) -> None:
        super().__init__()
        self.once = OnceLog()

    def filter(self, record: logging.LogRecord) -> bool:
        from aiohttp.http_exceptions import HttpProcessingError

        error = record.exc_info[1] if record.exc_info else None
        if not isinstance(error, HttpProcessingError):
            return True
        lines = str(error.message or "").strip().splitlines() or [type(error).__name__]
        reason = _CODE.sub(r"\1…", lines[0].strip().rstrip(":"))
        peer = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
        key = f"malformed:{type(error).__name__}:{reason}"
        level = logging.INFO if self.once.seen(logging.getLogger(record.name), key) else (
            logging.WARNING)
        self.once.mark(logging.getLogger(record.name), key)
        record.msg, record.args = "refused a malformed request from %s: %s", (
            peer, printable(reason))
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        record.levelno, record.levelname = level, logging.getLevelName(level)
        return True


def quiet_malformed_requests() -> None:
    """Install the filter above on aiohttp's server logger (once; entry points call this)."""
    logger = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, _MalformedRequests) for f in logger.filters):
        logger.addFilter(_MalformedRequests())
