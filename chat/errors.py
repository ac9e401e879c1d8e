"""Errors the app returns to the caller as a readable invocation error.

The host turns an exception raised by a SignalR trigger into an error completion
(``Result: Failure\\nException: <Type>: <message>``); the page shows ``<message>``. Nothing is sent
to anyone when a handler raises, because output bindings are only sent after a function returns.
``status_hint`` is the HTTP status the same refusal gets where the app answers over HTTP
(``negotiate``).

ChatError                  refused request; ``str(error)`` is a sentence for the user
├── InvalidMessage         text, user name, connection id or arguments fail validation (400)
├── InvalidGroupName       a group name fails validation (400)
├── NotAllowed             the caller may not do this (403)
├── NotOnline              the recipient user or connection is not connected (404)
├── LimitReached           a bound on the caller's state (groups, connections) is full (409)
├── TooFast                the caller sends faster than the rate limit allows (429)
└── TryAgain               the change was not confirmed in time; retrying is safe (503)
"""

from __future__ import annotations

__all__ = [
    "ChatError",
    "InvalidGroupName",
    "InvalidMessage",
    "LimitReached",
    "NotAllowed",
    "NotOnline",
    "TooFast",
    "TryAgain",
]


class ChatError(Exception):
    """A request the app refuses; ``str(error)`` is a sentence for the user."""

    status_hint: int = 400


class InvalidMessage(ChatError):
    """Text, user name, connection id or the arguments of a call fail validation."""


class InvalidGroupName(ChatError):
    """A group name is empty, too long or has characters outside the allowed set."""


class NotAllowed(ChatError):
    """The caller's identity (from the validated token) does not permit the action."""

    status_hint = 403


class NotOnline(ChatError):
    """A private message's recipient has no open connection."""

    status_hint = 404


class LimitReached(ChatError):
    """A bounded part of the caller's state is full (groups per user, connections per user)."""

    status_hint = 409


class TooFast(ChatError):
    """The caller's sends exceed the per-user rate limit; ``retry_after`` is in seconds."""

    status_hint = 429

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TryAgain(ChatError):
    """A change was queued but not confirmed within the wait; it is safe to call again."""

    status_hint = 503
