"""Errors the app returns to the caller as a readable invocation error.

ChatError                  refused request; its message is shown to the user
└── InvalidMessage         text, name or group fails validation
"""

__all__ = ["ChatError", "InvalidMessage"]


class ChatError(Exception):
    """A request the app refuses; ``str(error)`` is a sentence for the user."""


class InvalidMessage(ChatError):
    """Text, user name or group name fails validation."""
