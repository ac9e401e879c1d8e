"""The chat app's pure logic: messages, validation, authorization, history and presence.

No I/O, no clock, no environment, no emulator: ``function_app.py`` reads bindings and settings,
calls these, and carries out the :class:`Decision` they return (tests/unit/test_boundaries.py
checks the imports). docs/chat-app.md explains the design and the platform facts it relies on.
"""

from . import groups, history, outputs, presence, roster
from .confirm import CONFIRM_DELAYS, wait_for_state
from .connections import (
    after_connect,
    connected_outputs,
    disconnected_outputs,
    plan_connect,
    plan_disconnect,
)
from .decisions import Confirm, Decision, Stamp
from .entities import CHAT_ROOM, GROUP, PRESENCE, ROSTER, ROSTER_KEY, Signal, entity_key
from .errors import (
    ChatError,
    InvalidGroupName,
    InvalidMessage,
    LimitReached,
    NotAllowed,
    NotOnline,
    TooFast,
    TryAgain,
)
from .groups import Members
from .history import HISTORY_BYTES, LOBBY, History, append_message, history_messages
from .invocation import Invocation, parse_invocation, user_owner
from .limits import SendLimits
from .membership import (
    connection_group_change,
    read_connection_group_change,
    read_user_group_change,
    user_group_change,
)
from .messages import ChatMessage, keyed_message_id, message_id, new_message
from .news import News, batch_news
from .page import PageSettings, content_security_policy, service_origins
from .presence import Presence
from .reconcile import ReconcilePlan, connections_to_check, plan_reconcile
from .roster import Roster
from .sending import (
    Draft,
    broadcast_message,
    group_message,
    private_to_connection,
    private_to_user,
    read_draft,
)
from .service import Endpoint, Request, endpoint_from, endpoint_setting_names
from .settings import (
    RECONCILE_SCHEDULE_SETTING,
    SETTING_NAMES,
    Settings,
    identities_are_verified,
    settings_from,
)
from .tokens import rest_token
from .validation import (
    validate_client_message_id,
    validate_connection_id,
    validate_group_name,
    validate_text,
    validate_user_name,
)

__all__ = [
    "CHAT_ROOM",
    "CONFIRM_DELAYS",
    "GROUP",
    "HISTORY_BYTES",
    "LOBBY",
    "PRESENCE",
    "RECONCILE_SCHEDULE_SETTING",
    "ROSTER",
    "ROSTER_KEY",
    "SETTING_NAMES",
    "ChatError",
    "ChatMessage",
    "Confirm",
    "Decision",
    "Draft",
    "Endpoint",
    "History",
    "InvalidGroupName",
    "InvalidMessage",
    "Invocation",
    "LimitReached",
    "Members",
    "News",
    "NotAllowed",
    "NotOnline",
    "PageSettings",
    "Presence",
    "ReconcilePlan",
    "Request",
    "Roster",
    "SendLimits",
    "Settings",
    "Signal",
    "Stamp",
    "TooFast",
    "TryAgain",
    "after_connect",
    "append_message",
    "batch_news",
    "broadcast_message",
    "connected_outputs",
    "connection_group_change",
    "connections_to_check",
    "content_security_policy",
    "disconnected_outputs",
    "endpoint_from",
    "endpoint_setting_names",
    "entity_key",
    "group_message",
    "groups",
    "history",
    "history_messages",
    "identities_are_verified",
    "keyed_message_id",
    "message_id",
    "new_message",
    "outputs",
    "parse_invocation",
    "plan_connect",
    "plan_disconnect",
    "plan_reconcile",
    "presence",
    "private_to_connection",
    "private_to_user",
    "read_connection_group_change",
    "read_draft",
    "read_user_group_change",
    "rest_token",
    "roster",
    "service_origins",
    "settings_from",
    "user_group_change",
    "user_owner",
    "validate_client_message_id",
    "validate_connection_id",
    "validate_group_name",
    "validate_text",
    "validate_user_name",
    "wait_for_state",
]
