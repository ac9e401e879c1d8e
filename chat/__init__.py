"""The chat app's pure logic: messages, validation, authorization, history and presence.

No I/O, no clock, no environment, no emulator: ``function_app.py`` reads bindings and settings,
calls these, and writes output bindings (tests/unit/test_boundaries.py checks the imports).
"""

from . import history, outputs, presence
from .confirm import CONFIRM_DELAYS, wait_for_state
from .errors import ChatError, InvalidGroupName, InvalidMessage, NotAllowed, NotOnline
from .history import LOBBY, append_message, history_messages
from .hub import (
    GroupChange,
    Settings,
    broadcast_message,
    connected_outputs,
    connection_group_change,
    disconnected_outputs,
    group_message,
    identities_are_verified,
    private_to_connection,
    private_to_user,
    settings_from,
    user_group_change,
)
from .invocation import Invocation, parse_invocation
from .messages import ChatMessage, message_id, new_message
from .page import PageSettings, content_security_policy, service_origins
from .validation import (
    DEFAULT_HISTORY_SIZE,
    DEFAULT_MAX_MESSAGE_LENGTH,
    MAX_GROUP_NAME_LENGTH,
    MAX_USER_NAME_LENGTH,
    parse_admins,
    parse_positive_int,
    validate_connection_id,
    validate_group_name,
    validate_text,
    validate_user_name,
)

__all__ = [
    "CONFIRM_DELAYS",
    "DEFAULT_HISTORY_SIZE",
    "DEFAULT_MAX_MESSAGE_LENGTH",
    "LOBBY",
    "MAX_GROUP_NAME_LENGTH",
    "MAX_USER_NAME_LENGTH",
    "ChatError",
    "ChatMessage",
    "GroupChange",
    "InvalidGroupName",
    "InvalidMessage",
    "Invocation",
    "NotAllowed",
    "NotOnline",
    "PageSettings",
    "Settings",
    "append_message",
    "broadcast_message",
    "connected_outputs",
    "connection_group_change",
    "content_security_policy",
    "disconnected_outputs",
    "group_message",
    "history",
    "history_messages",
    "identities_are_verified",
    "message_id",
    "new_message",
    "outputs",
    "parse_admins",
    "parse_invocation",
    "parse_positive_int",
    "presence",
    "private_to_connection",
    "private_to_user",
    "service_origins",
    "settings_from",
    "user_group_change",
    "validate_connection_id",
    "validate_group_name",
    "validate_text",
    "validate_user_name",
    "wait_for_state",
]
