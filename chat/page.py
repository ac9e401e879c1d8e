"""Settings the chat page needs, and the Content-Security-Policy that protects it."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from .service import parse_connection_string

__all__ = ["PageSettings", "content_security_policy", "service_origins"]


@dataclass(frozen=True, kw_only=True)
class PageSettings:
    client_library_url: str
    """Where the page loads ``@microsoft/signalr`` from: served locally, or a CDN fallback."""
    max_message_length: int
    max_message_bytes: int
    app_service_auth: bool = False
    """App Service Authentication is on: the page asks ``/.auth/me`` who is signed in."""


def _origin(url: str) -> str | None:
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:  # e.g. an unclosed IPv6 bracket: no origin, the default policy applies
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def service_origins(connection_string: str | None, service_uri: str | None = None) -> list[str]:
    """The origins (http and ws) the browser connects to, from the SignalR connection setting.

    Reads ``ClientEndpoint``, else ``Endpoint`` with ``Port``; or the identity-based
    ``__serviceUri`` form. Returns ``[]`` when none can be read.
    """
    fields = parse_connection_string(connection_string)
    url = fields.get("clientendpoint") or fields.get("endpoint") or service_uri or ""
    origin = _origin(url)
    if origin is None:
        return []
    if "port" in fields and not fields.get("clientendpoint"):
        parts = urlsplit(origin)
        host = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname
        origin = f"{parts.scheme}://{host}:{fields['port']}"
    socket_origin = origin.replace("http", "ws", 1)
    return [origin, socket_origin]


def content_security_policy(*, connect_origins: list[str], script_origins: list[str]) -> str:
    """No inline script, no plugins, no framing; scripts and connections only where needed."""
    connect = " ".join(["'self'", *connect_origins]) if connect_origins else "'self' https: wss:"
    scripts = " ".join(["'self'", *script_origins])
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {scripts}",
            "style-src 'self'",
            "img-src 'self' data:",
            f"connect-src {connect}",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )
