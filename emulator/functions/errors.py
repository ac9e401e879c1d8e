"""The host's part of the stack's one error tree (:mod:`emulator.errors`), re-exported here."""

from ..errors import (
    BindingError,
    BindingExpressionError,
    ConfigError,
    CrossSiteRequest,
    DurableError,
    EntityError,
    FunctionIndexingError,
    FunctionsHostError,
    IndexingError,
    InvalidFunctionKey,
    InvocationError,
    OutputBindingError,
    RequestTimeout,
    RequestTooLarge,
    WebhookError,
)

__all__ = [
    "BindingError",
    "BindingExpressionError",
    "ConfigError",
    "CrossSiteRequest",
    "DurableError",
    "EntityError",
    "FunctionIndexingError",
    "FunctionsHostError",
    "IndexingError",
    "InvalidFunctionKey",
    "InvocationError",
    "OutputBindingError",
    "RequestTimeout",
    "RequestTooLarge",
    "WebhookError",
]
