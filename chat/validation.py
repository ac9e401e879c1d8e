"""Validation of what clients send (issue 8 §3)."""

from __future__ import annotations

from typing import Any

from .errors import InvalidMessage

__all__ = [
    "DEFAULT_MAX_MESSAGE_LENGTH",
    "MAX_USER_NAME_LENGTH",
    "validate_text",
    "validate_user_name",
]

DEFAULT_MAX_MESSAGE_LENGTH = 2000
MAX_USER_NAME_LENGTH = 64


def validate_text(value: Any, max_length: int = DEFAULT_MAX_MESSAGE_LENGTH) -> str:
    """The trimmed message text, or :class:`InvalidMessage` saying what is wrong."""
    if not isinstance(value, str):
        raise InvalidMessage("A message must be text.")
    text = value.strip()
    if not text:
        raise InvalidMessage("A message cannot be empty.")
    if len(text) > max_length:
        raise InvalidMessage(f"A message can be at most {max_length} characters long.")
    return text


def validate_user_name(value: Any) -> str:
    """A user name as the token carries it: 1 to 64 characters, no control characters."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidMessage("A user name is required.")
    if len(value) > MAX_USER_NAME_LENGTH:
        raise InvalidMessage(f"A user name can be at most {MAX_USER_NAME_LENGTH} characters long.")
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise InvalidMessage("A user name cannot contain control characters.")
    return value
