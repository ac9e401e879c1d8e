"""What the app reads from its environment (app settings on Azure, ``local.settings.json``
``Values`` offline) and what one app instance remembers between invocations.

The settings and the service client are made once per configuration. The instance's memory
(:class:`Instance`: rate limits and recent client message ids, the history and roster view,
the presence news queue, the connections it recorded) belongs to the event loop the worker runs
the functions on: one per worker process on Azure, and one per test when a test host runs the
app in its own loop.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field

from chat import SETTING_NAMES, SendLimits, Settings, settings_from

from .cache import Known, Snapshots
from .feed import PresenceFeed
from .rest import Service

__all__ = ["CONNECTION", "HUB", "Instance", "instance", "service", "settings"]

HUB = "chat"
CONNECTION = "AzureSignalRConnectionString"

SERVICE_SETTINGS = Service.setting_names(CONNECTION)
log = logging.getLogger("chat")


def _environment(names: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """The values of those of ``names`` that are set. Only those are read: every invocation
    asks, and a pass over the whole environment decodes each of its variables."""
    environ = os.environ
    return tuple((name, environ[name]) for name in names if name in environ)


@functools.lru_cache(maxsize=4)
def _settings_of(values: tuple[tuple[str, str], ...]) -> Settings:
    result = settings_from(dict(values))
    if result.admins_ignored:  # once per configuration, not on every invocation
        log.warning("CHAT_ADMINS is ignored: App Service Authentication is off, so anyone can "
                    "claim any name")
    return result


def settings() -> Settings:
    return _settings_of(_environment(SETTING_NAMES))


@functools.lru_cache(maxsize=4)
def _service_of(values: tuple[tuple[str, str], ...]) -> Service:
    return Service(dict(values), CONNECTION, HUB)


def service() -> Service:
    return _service_of(_environment(SERVICE_SETTINGS))


@dataclass
class Instance:
    """One app instance's memory (chat.limits, chat_io.cache, chat_io.feed)."""

    limits: SendLimits = field(default_factory=SendLimits)
    snapshots: Snapshots = field(default_factory=Snapshots)
    known: Known = field(default_factory=Known)
    feed: PresenceFeed = field(init=False)

    def __post_init__(self) -> None:
        self.feed = PresenceFeed(self.snapshots)


_instances: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Instance] = (
    weakref.WeakKeyDictionary())


def instance() -> Instance:
    loop = asyncio.get_running_loop()
    found = _instances.get(loop)
    if found is None:
        found = _instances[loop] = Instance()
    return found
