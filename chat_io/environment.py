"""What the app reads from its environment (app settings on Azure, ``local.settings.json``
``Values`` offline): the chat's settings and the service client, each made once per
configuration.
"""

from __future__ import annotations

import functools
import logging
import os

from chat import SendLimits, Settings, settings_from

from .cache import Known, Snapshots
from .feed import PresenceFeed
from .rest import Service

__all__ = ["CONNECTION", "FEED", "HUB", "KNOWN", "LIMITS", "SNAPSHOTS", "service", "settings"]

HUB = "chat"
CONNECTION = "AzureSignalRConnectionString"
LIMITS = SendLimits()
"""The rate limit and recent client message ids of this app instance (chat.limits)."""
SNAPSHOTS = Snapshots()
"""This instance's recent view of the history and the roster (chat_io.cache)."""
FEED = PresenceFeed(SNAPSHOTS)
KNOWN = Known()
"""This instance's presence news, one flush at a time (chat_io.feed)."""

log = logging.getLogger("chat")


def _environment(*prefixes: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(prefixes)))


@functools.lru_cache(maxsize=4)
def _settings_of(values: tuple[tuple[str, str], ...]) -> Settings:
    result = settings_from(dict(values))
    if result.admins_ignored:  # once per configuration, not on every invocation
        log.warning("CHAT_ADMINS is ignored: App Service Authentication is off, so anyone can "
                    "claim any name")
    return result


def settings() -> Settings:
    return _settings_of(_environment("CHAT_", "WEBSITE_"))


@functools.lru_cache(maxsize=4)
def _service_of(values: tuple[tuple[str, str], ...]) -> Service:
    return Service(dict(values), CONNECTION, HUB)


def service() -> Service:
    return _service_of(_environment(CONNECTION, "IDENTITY_"))
