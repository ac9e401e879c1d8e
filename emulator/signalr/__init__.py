"""A local Azure SignalR Service in Serverless mode: negotiate, WebSockets, SSE and long polling,
the JSON and MessagePack hub protocols, upstream webhooks and the data-plane REST API, on the
real wire.

Importing this package loads nothing but its configuration; ``make_app`` (aiohttp and the whole
service) is imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from .config import (
    DEFAULT_ACCESS_KEY,
    ServiceConfig,
    UpstreamTemplate,
    load_settings,
    parse_settings,
)

if TYPE_CHECKING:
    from .app import make_app, stop_runner

__all__ = [
    "DEFAULT_ACCESS_KEY",
    "ConfigError",
    "ServiceConfig",
    "UpstreamTemplate",
    "load_settings",
    "make_app",
    "parse_settings",
    "stop_runner",
]


def __getattr__(name: str) -> Any:
    if name in ("make_app", "stop_runner"):
        from . import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
