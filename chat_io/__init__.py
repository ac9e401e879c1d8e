"""The I/O shell around ``chat`` for function_app.py: entities, the service's REST API, the
environment, and the flows that combine them with chat's decisions.

Like ``chat``, it never imports the emulator (tests/unit/test_function_app.py checks).
"""

from .entities import Entities, carry_out, refusals, send, settle, stamp
from .environment import CONNECTION, HUB, Instance, instance, service, settings
from .flows import (
    change_connection_group,
    change_user_group,
    close_connection,
    open_connection,
    reconcile_pass,
    send_message,
    to_connection,
    to_everyone,
    to_group,
    to_user,
)
from .rest import Service

__all__ = [
    "CONNECTION",
    "HUB",
    "Entities",
    "Instance",
    "Service",
    "carry_out",
    "change_connection_group",
    "change_user_group",
    "close_connection",
    "instance",
    "open_connection",
    "reconcile_pass",
    "refusals",
    "send",
    "send_message",
    "service",
    "settings",
    "settle",
    "stamp",
    "to_connection",
    "to_everyone",
    "to_group",
    "to_user",
]
