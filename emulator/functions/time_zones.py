"""The time zone timer schedules run in.

The timer listener computes occurrences in the process's local time zone
(``Azure/azure-webjobs-sdk-extensions src/WebJobs.Extensions/Extensions/Timers/Listener/
TimerListener.cs``: "we use DateTimeOffset.Now ... to allow the local machine to set the time
zone"). On Azure that zone is UTC unless the app sets ``WEBSITE_TIME_ZONE`` (Windows names on
Windows plans, IANA names on Linux Premium/Dedicated) or ``TZ`` on Linux
(https://learn.microsoft.com/azure/azure-functions/functions-bindings-timer, "NCRONTAB time
zones"); under Core Tools it is the machine's zone. This host takes ``WEBSITE_TIME_ZONE``, then
``TZ`` (IANA names), then the machine's zone, so an app that sets the Azure setting sees the same
times here as on a Linux plan (docs/functions-host-indexing-and-timers.md, "Time zone and
daylight saving time").
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, timedelta, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["HostTimeZone", "host_time_zone"]

SETTINGS = ("WEBSITE_TIME_ZONE", "TZ")


@dataclass(frozen=True)
class HostTimeZone:
    zone: tzinfo
    description: str
    """Which zone and where it came from, for the log."""
    problem: str | None = None
    """A setting that named no zone this machine knows (then the machine's zone is used)."""


def _zone(name: str) -> tzinfo | None:
    name = name.strip().removeprefix(":")
    if name.upper() in ("UTC", "ETC/UTC", "Z"):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def _machine_zone() -> tuple[tzinfo, str]:
    try:
        target = os.readlink("/etc/localtime")
    except OSError:
        target = ""
    if "zoneinfo/" in target:
        key = target.split("zoneinfo/", 1)[1]
        found = _zone(key)
        if found is not None:
            return found, key
    try:
        key = Path("/etc/timezone").read_text(encoding="utf-8").strip()
    except OSError:
        key = ""
    if key and (found := _zone(key)) is not None:
        return found, key
    offset = timedelta(seconds=time.localtime().tm_gmtoff)
    return timezone(offset, time.strftime("%Z")), f"{time.strftime('%Z')} (fixed offset)"


def host_time_zone(settings: Mapping[str, str]) -> HostTimeZone:
    """The zone from the settings (environment included), else the machine's."""
    problem = None
    for setting in SETTINGS:
        name = settings.get(setting)
        if not name:
            continue
        found = _zone(name)
        if found is not None:
            return HostTimeZone(found, f"{name} (from {setting})")
        problem = (f"{setting}={name!r} is not a time zone this machine knows; timers use the "
                   f"machine's time zone instead. Use an IANA name such as 'America/New_York' "
                   f"(Windows names such as 'Eastern Standard Time' work on Windows plans only).")
        break
    zone, name = _machine_zone()
    return HostTimeZone(zone, f"{name} (this machine's time zone)", problem)
