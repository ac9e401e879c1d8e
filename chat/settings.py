"""The app settings the chat reads, in one place (README "Configuration").

``function_app.py`` hands :func:`settings_from` the environment (app settings on Azure,
``local.settings.json`` ``Values`` offline); everything else receives the frozen
:class:`Settings`. A malformed number raises ``ValueError`` naming the setting and the value, so a
misconfiguration is obvious in the log instead of silently falling back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "DEFAULT_HISTORY_SIZE",
    "DEFAULT_MAX_MESSAGE_BYTES",
    "DEFAULT_MAX_MESSAGE_LENGTH",
    "DEFAULT_SEND_BURST",
    "DEFAULT_SEND_RATE",
    "RECONCILE_SCHEDULE_SETTING",
    "SETTING_NAMES",
    "Settings",
    "identities_are_verified",
    "parse_admins",
    "parse_positive_int",
    "settings_from",
]

DEFAULT_MAX_MESSAGE_LENGTH = 2000
DEFAULT_MAX_MESSAGE_BYTES = 4000
DEFAULT_HISTORY_SIZE = 100
DEFAULT_SEND_RATE = 60
"""Messages per minute a user may send in the long run."""
DEFAULT_SEND_BURST = 50
"""Messages a user may send back to back before the rate applies."""
RECONCILE_SCHEDULE_SETTING = "CHAT_RECONCILE_SCHEDULE"
"""The NCRONTAB schedule of the presence reconcile timer (``%CHAT_RECONCILE_SCHEDULE%``)."""


@dataclass(frozen=True, kw_only=True)
class Settings:
    max_message_length: int = DEFAULT_MAX_MESSAGE_LENGTH
    """Characters, after trimming (``CHAT_MAX_MESSAGE_LENGTH``)."""
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    """UTF-8 bytes, after trimming (``CHAT_MAX_MESSAGE_BYTES``)."""
    history_size: int = DEFAULT_HISTORY_SIZE
    send_rate: int = DEFAULT_SEND_RATE
    send_burst: int = DEFAULT_SEND_BURST
    admins: frozenset[str] = frozenset()
    admins_ignored: bool = False
    """``CHAT_ADMINS`` was set but identities are not verified, so it is ignored."""

    def is_admin(self, user: str | None) -> bool:
        return user is not None and user in self.admins


def identities_are_verified(values: Mapping[str, str]) -> bool:
    """False on an Azure site without App Service Authentication, where names are typed in.

    Azure sets ``WEBSITE_SITE_NAME`` on every site and ``WEBSITE_AUTH_ENABLED=True`` when App
    Service Authentication is on; only then is ``x-ms-client-principal-name`` the platform's.
    Off Azure (the offline stack, ``func start``) it is development: admins stay usable.
    """
    on_azure = bool(values.get("WEBSITE_SITE_NAME"))
    return not on_azure or values.get("WEBSITE_AUTH_ENABLED", "").lower() == "true"


def parse_admins(value: str | None) -> frozenset[str]:
    """``CHAT_ADMINS``: comma-separated user ids, blanks ignored, compared exactly."""
    return frozenset(part.strip() for part in (value or "").split(",") if part.strip())


def parse_positive_int(name: str, value: str | None, default: int) -> int:
    """A positive integer setting; unset or blank means ``default``; anything else is refused."""
    if value is None or not value.strip():
        return default
    try:
        number = int(value.strip())
    except ValueError:
        raise ValueError(f"setting {name} must be a positive integer, got {value!r}") from None
    if number < 1:
        raise ValueError(f"setting {name} must be a positive integer, got {value!r}")
    return number


SETTING_NAMES = ("CHAT_MAX_MESSAGE_LENGTH", "CHAT_MAX_MESSAGE_BYTES", "CHAT_HISTORY_SIZE",
                 "CHAT_SEND_RATE", "CHAT_SEND_BURST", "CHAT_ADMINS", "WEBSITE_SITE_NAME",
                 "WEBSITE_AUTH_ENABLED")
"""Every setting :func:`settings_from` reads."""


def settings_from(values: Mapping[str, str]) -> Settings:
    """Every ``CHAT_*`` setting; ``CHAT_ADMINS`` is ignored where anyone can claim any name."""

    def number(name: str, default: int) -> int:
        return parse_positive_int(name, values.get(name), default)

    admins = parse_admins(values.get("CHAT_ADMINS"))
    verified = identities_are_verified(values)
    return Settings(
        max_message_length=number("CHAT_MAX_MESSAGE_LENGTH", DEFAULT_MAX_MESSAGE_LENGTH),
        max_message_bytes=number("CHAT_MAX_MESSAGE_BYTES", DEFAULT_MAX_MESSAGE_BYTES),
        history_size=number("CHAT_HISTORY_SIZE", DEFAULT_HISTORY_SIZE),
        send_rate=number("CHAT_SEND_RATE", DEFAULT_SEND_RATE),
        send_burst=number("CHAT_SEND_BURST", DEFAULT_SEND_BURST),
        admins=admins if verified else frozenset(),
        admins_ignored=bool(admins) and not verified,
    )
