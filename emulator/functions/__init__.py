"""A local Azure Functions host for Python v2 apps (HTTP, timers, SignalR bindings, Durable
entities).

Use :func:`make_app` with a :class:`HostConfig`, or ``python -m emulator.functions``.
"""

from typing import TYPE_CHECKING, Any

from ..errors import (
    BindingError,
    BindingExpressionError,
    ConfigError,
    EntityError,
    FunctionIndexingError,
    FunctionsHostError,
    IndexingError,
    InvalidFunctionKey,
    InvocationError,
    OutputBindingError,
    WebhookError,
)
from .config import (
    HostConfig,
    HostJson,
    HostSection,
    load_host_json,
    load_local_settings,
    merge_settings,
)

if TYPE_CHECKING:
    from .app import RUNTIME, make_app

__all__ = [
    "RUNTIME",
    "BindingError",
    "BindingExpressionError",
    "ConfigError",
    "EntityError",
    "FunctionIndexingError",
    "FunctionsHostError",
    "HostConfig",
    "HostJson",
    "HostSection",
    "IndexingError",
    "InvalidFunctionKey",
    "InvocationError",
    "OutputBindingError",
    "WebhookError",
    "load_host_json",
    "load_local_settings",
    "make_app",
    "merge_settings",
]


def __getattr__(name: str) -> Any:
    """``make_app`` and ``RUNTIME`` load aiohttp and the whole host: imported on first use."""
    if name in ("RUNTIME", "make_app"):
        from . import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
