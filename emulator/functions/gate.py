"""What every request to the host passes before a handler runs, and how bodies are read.

One middleware (:func:`gate_middleware`) makes three checks, in this order:

1. **Cross-site requests.** A browser request to an endpoint of the host itself (every route but
   the app's HTTP functions: the Durable HTTP API, ``/admin/``, the SignalR webhook) must come
   from the host's own page or a ``Host.CORS`` origin, by :class:`emulator.origins.OriginPolicy`:
   a request whose ``Origin`` is another page's, or that has no ``Origin`` and a
   ``Sec-Fetch-Site`` other than ``same-origin`` / ``none``, gets 403. A page on any origin can
   send a ``no-cors`` POST to a loopback server without a preflight, and keys are off by
   default, so without this any page could write entity state. Clients that are not browsers
   (the SDK, the SignalR Service, curl) send neither header and are judged by their keys.
   HTTP functions are not checked here: as on Azure, CORS is what governs them.
2. **Body size.** A ``Content-Length`` over the limit gets 413 before a byte of the body is
   read (the Functions host's limit, ``FUNCTIONS_REQUEST_BODY_SIZE_LIMIT``, 100 MiB by default:
   docs/functions-host.md, "Limits").
3. **Memory.** After a request that read a large body, once no other large body is being
   handled, the freed memory is handed back to the system (:func:`emulator.serve.
   release_free_memory`), so a burst of big uploads does not leave the process holding it.

:func:`read_body` is the one way handlers read a body: at most the limit (a chunked body stops
there with 413) within the body timeout (408), then the connection is closed so a hostile
client cannot keep sending.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web

from ..errors import CrossSiteRequest, RequestTimeout, RequestTooLarge
from ..logs import printable
from ..origins import OriginPolicy
from ..serve import page_origins, release_free_memory

__all__ = [
    "GATE",
    "RELEASE_AFTER",
    "BodyLimits",
    "Gate",
    "answer_and_close",
    "gate_middleware",
    "host_page_origins",
    "logged_path",
    "read_body",
]

RELEASE_AFTER = 1 << 20
"""Bodies of at least this many bytes hand their memory back to the system after the request."""
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")


@dataclass(frozen=True)
class BodyLimits:
    max_bytes: int
    """Bytes a body may have (HostConfig.resolved_max_request_body)."""
    timeout: float
    """Seconds a client has to send a whole body once its head has arrived."""


def host_page_origins(public_url: str | None, cors_origins: Iterable[str]) -> tuple[str, ...]:
    """The origins whose pages may call the host's own endpoints: the host's public URL (with
    every loopback name when it is a loopback one) and ``Host.CORS``."""
    origins: tuple[str, ...] = ()
    parts = urlsplit(public_url or "")
    if parts.hostname and parts.port:
        host = "localhost" if _is_loopback(parts.hostname) else parts.hostname
        origins = page_origins(host, parts.port)
    return (*origins, *cors_origins)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Gate:
    """The policy and limits of one host; lives on the app (:data:`GATE`)."""

    def __init__(self, origins: Iterable[str], limits: BodyLimits,
                 open_routes: Iterable[Handler]) -> None:
        self.policy = OriginPolicy(origins)
        self.limits = limits
        self._open = frozenset(open_routes)
        self.large_in_flight = 0

    def is_open_route(self, request: web.Request) -> bool:
        """The app's own HTTP functions: not checked for origin (CORS governs them)."""
        return request.match_info.handler in self._open

    def allows(self, request: web.Request) -> bool:
        origin = request.headers.get("Origin")
        fetch_site = request.headers.get("Sec-Fetch-Site")
        if self.policy.allows(origin, fetch_site):
            return True
        # The page of the port this request came in on, on a loopback socket: the host's own
        # page however it was opened. Taken from the socket, never from the Host header, so a
        # DNS-rebinding page (Origin and Host both "evil.example:7071") is still refused.
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        if origin and sockname and _is_loopback(str(sockname[0])):
            own = OriginPolicy(f"http://{name}:{sockname[1]}" for name in _LOOPBACK_NAMES)
            return own.allows_origin(origin)
        return False


GATE = web.AppKey("gate", Gate)
_LARGE = "emulator.functions.large_body"


@web.middleware
async def gate_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    gate = request.app[GATE]
    if not gate.is_open_route(request) and not gate.allows(request):
        raise CrossSiteRequest(
            f"a page on {printable(request.headers.get('Origin') or 'another site')} may not "
            f"call the host's own endpoints (add its origin to Host.CORS to allow it)")
    length = request.content_length
    if length is not None and length > gate.limits.max_bytes:
        raise RequestTooLarge(f"the request body ({length} bytes) is over the limit of "
                              f"{gate.limits.max_bytes} bytes")
    try:
        return await handler(request)
    finally:
        if request.get(_LARGE):
            gate.large_in_flight -= 1
            if not gate.large_in_flight:  # 5-30 ms of work: on a thread, not on the loop
                await asyncio.get_running_loop().run_in_executor(None, release_free_memory)


async def read_body(request: web.Request) -> bytes:
    """The whole body, at most the limit, within the body timeout (see the module docstring)."""
    gate = request.app[GATE]
    limit = gate.limits.max_bytes
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(gate.limits.timeout):
            while chunk := await request.content.readany():
                size += len(chunk)
                if size > limit:
                    raise RequestTooLarge(f"the request body is over the limit of {limit} bytes")
                chunks.append(chunk)
                if size >= RELEASE_AFTER and not request.get(_LARGE):
                    request[_LARGE] = True
                    gate.large_in_flight += 1
    except TimeoutError:
        raise RequestTimeout(f"the request body did not arrive within {gate.limits.timeout:g} s "
                             f"({size} bytes came)") from None
    body = b"".join(chunks)
    chunks.clear()
    return body


async def answer_and_close(request: web.Request, response: web.Response) -> web.Response:
    """Send ``response`` now and close the connection: the rest of a refused body is neither
    read nor waited for (aiohttp would otherwise read on for up to 10 s)."""
    response.force_close()
    await response.prepare(request)
    await response.write_eof()
    request.protocol.force_close()
    return response


def logged_path(request: web.Request) -> str:
    """The request path as logs show it: escaped, and without the SDK's RPC secret."""
    path = request.path
    secret = request.match_info.get("rpc")
    if secret:
        path = path.replace(f"/rpc/{secret}", "/rpc/…", 1)
    return printable(path)
