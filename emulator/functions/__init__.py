"""A local Azure Functions host for Python v2 apps (HTTP, timers, SignalR bindings, Durable
entities).

Use :func:`make_app` with a :class:`HostConfig`, or ``python -m emulator.functions``.
"""

from .app import RUNTIME, make_app
from .config import (
    HostConfig,
    HostSection,
    load_host_json,
    load_local_settings,
    merge_settings,
    route_prefix_of,
)
from .errors import (
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

__all__ = [
    "RUNTIME",
    "BindingError",
    "BindingExpressionError",
    "ConfigError",
    "EntityError",
    "FunctionIndexingError",
    "FunctionsHostError",
    "HostConfig",
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
    "route_prefix_of",
]
