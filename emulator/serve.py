"""What the command-line entry points share: listening sockets and stopping on a signal.

Every CLI stops on SIGINT and SIGTERM through the event loop's own handlers, which also
replace an inherited "ignore" (a shell starts background jobs with SIGINT ignored), so
``kill -INT`` and ``kill -TERM`` stop a background stack as Ctrl-C stops a foreground one.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import Iterator

__all__ = ["bind_sockets", "page_origins", "stop_signals", "url_host"]


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
