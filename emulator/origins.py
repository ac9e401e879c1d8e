"""Which browser pages may talk to the offline stack: one pure rule both servers apply.

A request is a browser's when it carries ``Origin`` or ``Sec-Fetch-Site`` (every current browser
sends the latter on every request). A browser request must come from an allowed origin; a
request without ``Origin`` passes only when the browser itself calls it same-origin or a direct
navigation (``Sec-Fetch-Site: same-origin`` / ``none``). Clients that are not browsers (the
SignalR client libraries under Node or Python, curl, the Functions host) send neither header
and are not affected: they are authenticated by their tokens and keys.

Why: pages on other origins can reach loopback servers (a ``no-cors`` POST needs no preflight,
and WebSockets are not covered by CORS at all), and the development key is public, so a token
is no proof that a page may talk to the stack. Sources: the Fetch standard's ``Origin`` header
and the W3C "Fetch Metadata Request Headers" draft (``Sec-Fetch-Site``), both on
https://fetch.spec.whatwg.org/ and https://w3c.github.io/webappsec-fetch-metadata/.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

__all__ = ["ANY_ORIGIN", "OriginPolicy", "normalize_origin"]

ANY_ORIGIN = "*"
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_origin(origin: str) -> str | None:
    """``scheme://host[:port]`` lower-cased, default port dropped; None when not an origin."""
    parts = urlsplit(origin.strip())
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    if port is None or port == _DEFAULT_PORTS[parts.scheme]:
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://{host}:{port}"


class OriginPolicy:
    """The allowed origins (``*`` allows any); see the module docstring for the rule."""

    __slots__ = ("_any", "_origins")

    def __init__(self, origins: Iterable[str] = ()) -> None:
        listed = [origin.strip() for origin in origins if origin.strip()]
        self._any = ANY_ORIGIN in listed
        self._origins = frozenset(
            o for o in (normalize_origin(origin) for origin in listed) if o is not None)

    @property
    def origins(self) -> frozenset[str]:
        return self._origins

    def allows_origin(self, origin: str) -> bool:
        """Whether a CORS answer may name ``origin`` (an exact match after normalizing)."""
        if self._any:
            return True
        normal = normalize_origin(origin)
        return normal is not None and normal in self._origins

    def allows(self, origin: str | None, fetch_site: str | None) -> bool:
        """Whether a request with these headers may proceed."""
        if origin is not None and origin != "null":
            return self.allows_origin(origin)
        if origin == "null":  # an opaque origin: a sandboxed frame, a file:// page
            return self._any
        return fetch_site is None or fetch_site.lower() in ("same-origin", "none")
