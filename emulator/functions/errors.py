"""Errors of the local Functions host; each carries the HTTP status it implies (``status_hint``).

::

    FunctionsHostError              500 unless a subclass says otherwise
    ├── ConfigError                 a settings file or host.json is unusable (names file and key)
    ├── IndexingError               the app cannot be loaded; worded the way Azure words it
    │   └── BindingError            one binding of one function is refused
    ├── BindingExpressionError      500: ``{headers.x}`` / ``%Setting%`` could not be resolved
    ├── InvalidFunctionKey          401: missing or wrong ``code`` / ``x-functions-key``
    ├── WebhookError                a SignalR upstream request is refused (400/401/403/404/415)
    ├── OutputBindingError          500: a ``signalR`` output is malformed or its REST call failed
    ├── DurableError                400: a Durable API request or an orchestrator's state is refused
    │   └── EntityError             a Durable entity request is malformed (400) or unknown
    └── InvocationError             500: user code raised; the original is kept as ``__cause__``
"""

from __future__ import annotations

__all__ = [
    "BindingError",
    "BindingExpressionError",
    "ConfigError",
    "DurableError",
    "EntityError",
    "FunctionsHostError",
    "IndexingError",
    "InvalidFunctionKey",
    "InvocationError",
    "OutputBindingError",
    "WebhookError",
]


class FunctionsHostError(Exception):
    """Root of the host's errors."""

    status_hint: int = 500

    def __init__(self, message: str, *, status_hint: int | None = None) -> None:
        super().__init__(message)
        if status_hint is not None:
            self.status_hint = status_hint


class ConfigError(FunctionsHostError):
    """A configuration file or value cannot be used."""


class IndexingError(FunctionsHostError):
    """The app cannot be indexed; the host refuses to start."""


class BindingError(IndexingError):
    """A binding declaration is refused; the message names the function, the binding and the fix."""


class BindingExpressionError(FunctionsHostError):
    """A binding expression cannot be resolved for this invocation."""


class InvalidFunctionKey(FunctionsHostError):
    """The request does not carry a key that satisfies the function's auth level."""

    status_hint = 401


class WebhookError(FunctionsHostError):
    """A SignalR upstream request is refused before or instead of running a function."""

    status_hint = 400


class OutputBindingError(FunctionsHostError):
    """A ``signalR`` output value is malformed, or the service refused the REST call."""


class DurableError(FunctionsHostError):
    """A Durable HTTP API request, or what an orchestrator function returned, is refused."""

    status_hint = 400


class EntityError(DurableError):
    """A Durable entity request is malformed or names no known entity."""

    status_hint = 400


class InvocationError(FunctionsHostError):
    """The user's function raised; the original exception is ``__cause__``.

    ``completion_error`` is the text a SignalR caller gets as its completion error.
    """

    completion_error: str = "Method execution failed."
