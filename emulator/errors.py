"""Every error the offline stack raises on purpose, in one tree. Pure: imports nothing.

Each class carries ``status_hint``, the HTTP status a shell answers with (h11's idea); a
constructor argument may give a more precise one when the error is raised, never later. One
middleware per app is the only place that turns these into responses.

::

    EmulatorError                    status_hint 500
    ├── ConfigError                  a setting or file cannot be used (names file, key, value)
    ├── SignalRError                 the local SignalR Service
    │   ├── ProtocolError            the peer broke the hub protocol (400) → Close with error
    │   │   ├── HandshakeError       bad or unsupported handshake → {"error": …} then close
    │   │   ├── FramingError         a record or length prefix cannot be read
    │   │   └── MessageTooLarge      over the maximum message size (413)
    │   ├── InvalidState             also AssertionError: our own bug, never the peer's
    │   ├── AuthError                401
    │   │   └── InvalidToken         a JWT that is missing, malformed, expired or wrongly signed
    │   ├── Forbidden                403: a request on another user's connection
    │   ├── NotFound                 404, with an ``x-ms-error-code`` value when Azure has one
    │   ├── BadRequest               400: REST body, names or query parameters
    │   ├── MethodNotAllowed         405
    │   ├── Conflict                 409: a second transport on one connection
    │   ├── PayloadTooLarge          413
    │   ├── UnsupportedMediaType     415
    │   └── UpstreamError            502: the upstream was unreachable or timed out
    ├── RequestTimeout               408: a request body that does not arrive in time
    ├── RequestTooLarge              413: a request body over the server's limit
    ├── InvalidConnectionString      a SignalR connection string cannot be parsed
    └── FunctionsHostError           the local Functions host
        ├── IndexingError            the app cannot be loaded; worded the way Azure words it
        │   ├── BindingError         one binding of one function is refused
        │   └── FunctionIndexingError  one function is in error; the host serves the others
        ├── BindingExpressionError   ``{headers.x}`` / ``%Setting%`` could not be resolved
        ├── InvalidFunctionKey       401: missing or wrong ``code`` / ``x-functions-key``
        ├── CrossSiteRequest         403: a browser page on another origin calls the host's own
        │                            endpoints (durable API, admin, webhooks)
        ├── WebhookError             a SignalR upstream request is refused (400 by default)
        ├── OutputBindingError       a ``signalR`` output is malformed or its REST call failed
        ├── DurableError             400: a Durable API request or an orchestrator's answer
        │   │                        is refused
        │   └── EntityError          a Durable entity request is malformed (400) or unknown
        └── InvocationError          user code raised; the original is ``__cause__``
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "BadRequest",
    "BindingError",
    "BindingExpressionError",
    "ConfigError",
    "Conflict",
    "CrossSiteRequest",
    "DurableError",
    "EmulatorError",
    "EntityError",
    "Forbidden",
    "FramingError",
    "FunctionIndexingError",
    "FunctionsHostError",
    "HandshakeError",
    "IndexingError",
    "InvalidConnectionString",
    "InvalidFunctionKey",
    "InvalidState",
    "InvalidToken",
    "InvocationError",
    "MessageTooLarge",
    "MethodNotAllowed",
    "NotFound",
    "OutputBindingError",
    "PayloadTooLarge",
    "ProtocolError",
    "RequestTimeout",
    "RequestTooLarge",
    "SignalRError",
    "UnsupportedMediaType",
    "UpstreamError",
    "WebhookError",
]


class EmulatorError(Exception):
    """Root of every error raised on purpose by the offline stack."""

    status_hint: int = 500

    def __init__(self, message: str = "", *, status_hint: int | None = None) -> None:
        super().__init__(message)
        if status_hint is not None:
            self.status_hint = status_hint


class ConfigError(EmulatorError, ValueError):
    """A configuration file or value cannot be used; the message names the file, key and value."""


# -- the SignalR Service ---------------------------------------------------------------------


class SignalRError(EmulatorError):
    """Raised by the local SignalR Service."""


class ProtocolError(SignalRError):
    """The peer sent something the hub protocol does not allow."""

    status_hint = 400


class HandshakeError(ProtocolError):
    """The handshake request is malformed or asks for something unsupported."""


class FramingError(ProtocolError):
    """A record separator or varint length prefix is missing or malformed."""


class MessageTooLarge(ProtocolError):
    """A message is longer than the maximum message size."""

    status_hint = 413


class InvalidState(SignalRError, AssertionError):
    """The service's own code misused a core: a bug, never the peer's fault."""


class AuthError(SignalRError):
    status_hint = 401


class InvalidToken(AuthError):
    """An access token is missing, malformed, expired, not yet valid, wrongly signed or for
    another audience; the message is a short reason, never the token."""


class Forbidden(SignalRError):
    status_hint = 403


class NotFound(SignalRError):
    """A hub, connection, user or group does not exist (``error_code`` is Azure's header value)."""

    status_hint = 404

    def __init__(self, message: str, error_code: str | None = None) -> None:
        super().__init__(message)
        self.error_code = error_code


class BadRequest(SignalRError):
    status_hint = 400


class MethodNotAllowed(SignalRError):
    status_hint = 405


class Conflict(SignalRError):
    status_hint = 409


class PayloadTooLarge(SignalRError):
    status_hint = 413


class UnsupportedMediaType(SignalRError):
    status_hint = 415


class UpstreamError(SignalRError):
    """The upstream could not be reached or did not answer in time."""

    status_hint = 502


class RequestTimeout(EmulatorError):
    """A request body did not arrive within the body timeout (a trickling upload); either
    server answers 408."""

    status_hint = 408


class RequestTooLarge(EmulatorError):
    """A request body is over the server's size limit (``Content-Length`` or counted)."""

    status_hint = 413


class InvalidConnectionString(EmulatorError, ValueError):
    """A SignalR connection string cannot be parsed; the message never repeats the key."""


# -- the Functions host ----------------------------------------------------------------------


class FunctionsHostError(EmulatorError):
    """Raised by the local Functions host."""


class IndexingError(FunctionsHostError):
    """The app cannot be indexed; the host refuses to start."""


class BindingError(IndexingError):
    """A binding declaration is refused; the message names the function, the binding and the fix."""


class FunctionIndexingError(IndexingError):
    """One function cannot run; it is listed as in error and not registered (the host's
    ``The 'x' function is in error: …``). ``fix`` says what to change."""

    def __init__(self, function: str, reason: str, fix: str = "") -> None:
        super().__init__(reason)
        self.function, self.reason, self.fix = function, reason, fix


class BindingExpressionError(FunctionsHostError):
    """A binding expression cannot be resolved for this invocation."""


class InvalidFunctionKey(FunctionsHostError):
    """The request does not carry a key that satisfies the function's auth level."""

    status_hint = 401


class CrossSiteRequest(FunctionsHostError):
    """A browser request from a page that is not the host's own (nor a ``Host.CORS`` origin)
    to an endpoint of the host itself; refused before any handler runs."""

    status_hint = 403


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
    """The user's function (or a binding around it) failed; the original is ``__cause__``.

    ``completion_error`` is the text a SignalR caller gets as its completion error.
    """

    def __init__(self, message: str, *, completion_error: str = "Method execution failed.",
                 status_hint: int | None = None) -> None:
        super().__init__(message, status_hint=status_hint)
        self.completion_error = completion_error
