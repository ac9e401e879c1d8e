"""Errors the app returns to the caller as a readable invocation error.

The host turns an exception raised by a SignalR trigger into an error completion
(``Result: Failure\\nException: <Type>: <message>``); the page shows ``<message>``. Nothing is sent
to anyone when a handler raises, because output bindings are only sent after a function returns.

ChatError                  refused request; ``str(error)`` is a sentence for the user
├── InvalidMessage         text, user name, connection id or arguments fail validation (400)
├── InvalidGroupName       a group name fails validation (400)
├── NotAllowed             the caller may not do this (403)
└── NotOnline              the recipient user or connection is not connected (404)
"""

from __future__ import annotations

__all__ = ["ChatError", "InvalidGroupName", "InvalidMessage", "NotAllowed", "NotOnline"]


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
