"""The chat app's pure logic: message model, validation, page settings. No I/O, no emulator."""

from .errors import ChatError, InvalidMessage
from .messages import ChatMessage, new_message
from .page import PageSettings, content_security_policy, service_origins
from .validation import (
    DEFAULT_MAX_MESSAGE_LENGTH,
    MAX_USER_NAME_LENGTH,
    validate_text,
    validate_user_name,
)

__all__ = [
    "DEFAULT_MAX_MESSAGE_LENGTH",
    "MAX_USER_NAME_LENGTH",
    "ChatError",
    "ChatMessage",
    "InvalidMessage",
    "PageSettings",
    "content_security_policy",
    "new_message",
    "service_origins",
    "validate_text",
    "validate_user_name",
]
