"""Validation of what clients send (README "The hub contract", Validation).

Text is 1 to ``CHAT_MAX_MESSAGE_LENGTH`` characters and at most ``CHAT_MAX_MESSAGE_BYTES`` bytes of
UTF-8 after trimming. Group names are 1 to 64 characters of ASCII letters, digits, space, ``_`` and
``-`` (trimmed first). User names are 1 to 64 characters with no control characters, no
bidirectional or other invisible format characters, not only spaces and without surrounding
spaces. Connection ids are 1 to 128 printable ASCII characters; client message ids 1 to 64 of
``[A-Za-z0-9_-]``. Every refusal is a :class:`~chat.errors.ChatError` whose message is shown to the
user.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from .errors import InvalidGroupName, InvalidMessage
from .settings import DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_MAX_MESSAGE_LENGTH

__all__ = [
    "MAX_CLIENT_MESSAGE_ID_LENGTH",
    "MAX_CONNECTION_ID_LENGTH",
    "MAX_GROUP_NAME_LENGTH",
    "MAX_USER_NAME_LENGTH",
    "is_hidden_character",
    "validate_client_message_id",
    "validate_connection_id",
    "validate_group_name",
    "validate_text",
    "validate_user_name",
]

MAX_USER_NAME_LENGTH = 64
MAX_GROUP_NAME_LENGTH = 64
MAX_CONNECTION_ID_LENGTH = 128
MAX_CLIENT_MESSAGE_ID_LENGTH = 64
_GROUP_NAME = re.compile(r"[A-Za-z0-9 _-]+")
_CONNECTION_ID = re.compile(r"[\x21-\x7e]+")
_CLIENT_MESSAGE_ID = re.compile(r"[A-Za-z0-9_-]+")
_JOINERS = {"\u200c", "\u200d"}
"""Zero-width non-joiner and joiner: format characters that Persian, Indic scripts and emoji
sequences (👩‍💻) need, so names may keep them."""


def is_hidden_character(char: str) -> bool:
    """A character that changes how text around it is shown without being seen itself.

    Controls (Cc), lone surrogates (Cs), line and paragraph separators (Zl, Zp) and format
    characters (Cf: the bidirectional embeddings, overrides and isolates U+202A-U+202E and
    U+2066-U+2069, marks, zero-width spaces, the BOM...), except the two joiners and the tag
    characters of flag emoji (U+E0020-U+E007F).
    """
    category = unicodedata.category(char)
    if category in ("Cc", "Cs", "Zl", "Zp"):
        return True
    return category == "Cf" and char not in _JOINERS and not 0xE0020 <= ord(char) <= 0xE007F


def validate_text(
    value: Any,
    max_length: int = DEFAULT_MAX_MESSAGE_LENGTH,
    max_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
) -> str:
    """The trimmed message text, or :class:`InvalidMessage` saying what is wrong."""
    if not isinstance(value, str):
        raise InvalidMessage("A message must be text.")
    text = value.strip()
    if not text:
        raise InvalidMessage("A message cannot be empty.")
    if len(text) > max_length:
        raise InvalidMessage(f"A message can be at most {max_length} characters long.")
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidMessage("A message must be valid Unicode text.") from None
    if size > max_bytes:
        raise InvalidMessage(
            f"A message can be at most {max_bytes} bytes long; this one has {size} "
            f"(emoji and most non-Latin letters take 2 to 4 bytes each)."
        )
    return text


def validate_user_name(value: Any) -> str:
    """A user name as the token carries it, refused when it could mislead or hide."""
    if not isinstance(value, str) or not value:
        raise InvalidMessage("A user name is required.")
    if not value.strip():
        raise InvalidMessage("A user name cannot be only spaces.")
    if len(value) > MAX_USER_NAME_LENGTH:
        raise InvalidMessage(f"A user name can be at most {MAX_USER_NAME_LENGTH} characters long.")
    if any(unicodedata.category(char) == "Cc" for char in value):
        raise InvalidMessage("A user name cannot contain control characters.")
    if any(is_hidden_character(char) for char in value):
        raise InvalidMessage(
            "A user name cannot contain invisible formatting characters such as direction marks."
        )
    if value != value.strip():
        raise InvalidMessage("A user name cannot start or end with a space.")
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


def validate_client_message_id(value: Any) -> str:
    """The id a client chose for a message so that a retry is recognised."""
    if (not isinstance(value, str) or not value or len(value) > MAX_CLIENT_MESSAGE_ID_LENGTH
            or not _CLIENT_MESSAGE_ID.fullmatch(value)):
        raise InvalidMessage(
            "A client message id is 1 to 64 letters, digits, '_' or '-'."
        )
    return value
