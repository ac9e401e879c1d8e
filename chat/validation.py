"""Validation of what clients send, and of the app settings that tune it (issue 8 §3).

Text is 1 to ``CHAT_MAX_MESSAGE_LENGTH`` (2,000) characters after trimming; group names are 1 to 64
characters of ASCII letters, digits, space, ``_`` and ``-`` (trimmed first); user names are 1 to 64
characters without control characters; connection ids are 1 to 128 printable ASCII characters.
Every refusal is a :class:`~chat.errors.ChatError` whose message is shown to the user.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import InvalidGroupName, InvalidMessage

__all__ = [
    "DEFAULT_HISTORY_SIZE",
    "DEFAULT_MAX_MESSAGE_LENGTH",
    "MAX_CONNECTION_ID_LENGTH",
    "MAX_GROUP_NAME_LENGTH",
    "MAX_USER_NAME_LENGTH",
    "parse_admins",
    "parse_positive_int",
    "validate_connection_id",
    "validate_group_name",
    "validate_text",
    "validate_user_name",
]

DEFAULT_MAX_MESSAGE_LENGTH = 2000
DEFAULT_HISTORY_SIZE = 100
MAX_USER_NAME_LENGTH = 64
MAX_GROUP_NAME_LENGTH = 64
MAX_CONNECTION_ID_LENGTH = 128
_GROUP_NAME = re.compile(r"[A-Za-z0-9 _-]+")
_CONNECTION_ID = re.compile(r"[\x21-\x7e]+")


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


def validate_group_name(value: Any) -> str:
    """The trimmed group name, or :class:`InvalidGroupName` saying what is wrong."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidGroupName("A group name is required.")
    name = value.strip()
    if len(name) > MAX_GROUP_NAME_LENGTH:
        raise InvalidGroupName(
            f"A group name can be at most {MAX_GROUP_NAME_LENGTH} characters long."
        )
    if not _GROUP_NAME.fullmatch(name):
        raise InvalidGroupName(
            "A group name can only contain letters, digits, spaces, '_' and '-'."
        )
    return name


def validate_connection_id(value: Any) -> str:
    """A connection id as the service issues them: printable ASCII, no spaces, at most 128."""
    if not isinstance(value, str) or not value:
        raise InvalidMessage("A connection id is required.")
    if len(value) > MAX_CONNECTION_ID_LENGTH or not _CONNECTION_ID.fullmatch(value):
        raise InvalidMessage("That is not a valid connection id.")
    return value


def parse_admins(value: str | None) -> frozenset[str]:
    """``CHAT_ADMINS``: comma-separated user ids, blanks ignored, compared exactly."""
    return frozenset(part.strip() for part in (value or "").split(",") if part.strip())


def parse_positive_int(name: str, value: str | None, default: int) -> int:
    """A positive integer setting; unset or blank means ``default``; anything else is refused.

    Raises ``ValueError`` naming the setting and the value, so a misconfiguration is obvious in
    the log instead of silently falling back.
    """
    if value is None or not value.strip():
        return default
    try:
        number = int(value.strip())
    except ValueError:
        raise ValueError(f"setting {name} must be a positive integer, got {value!r}") from None
    if number < 1:
        raise ValueError(f"setting {name} must be a positive integer, got {value!r}")
    return number
