"""A local Azure SignalR Service in Serverless mode: negotiate, WebSockets, the JSON and
MessagePack hub protocols, upstream webhooks and the data-plane REST API, on the real wire.
"""

from .app import make_app
from .config import (
    DEFAULT_ACCESS_KEY,
    ConfigError,
    ServiceConfig,
    UpstreamTemplate,
    load_settings,
    parse_settings,
)

__all__ = [
    "DEFAULT_ACCESS_KEY",
    "ConfigError",
    "ServiceConfig",
    "UpstreamTemplate",
    "load_settings",
    "make_app",
    "parse_settings",
]
