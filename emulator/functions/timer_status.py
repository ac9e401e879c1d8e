"""Timer schedule status, past-due detection and the timer trigger's JSON, pure.

- ``ScheduleStatus`` is ``{"Last", "Next", "LastUpdated"}`` (``Azure/azure-webjobs-sdk-extensions
  src/WebJobs.Extensions/Extensions/Timers/Scheduling/ScheduleStatus.cs``); the schedule monitor
  stores it as that JSON, dates in Newtonsoft's ISO format with the offset
  (``WebJobs.Extensions.Timers.Storage/StorageScheduleMonitor.cs``).
- :func:`check_past_due` is ``ScheduleMonitor.CheckPastDueAsync`` (``Scheduling/
  ScheduleMonitor.cs``) and :func:`status_after_invocation` the end of
  ``TimerListener.InvokeJobFunction`` (``Listener/TimerListener.cs``).
- :func:`timer_info_json` is the ``TimerInfo`` the host sends to the worker: Newtonsoft's default
  serialization, ``{"Schedule":{"AdjustForDST":…},"ScheduleStatus":{…}|null,"IsPastDue":…}``,
  which the Python library's ``TimerRequestConverter`` reads (``Azure/azure-functions-python-
  library azure/functions/timer.py``).

See docs/functions-host-indexing-and-timers.md, "The listener".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

from .schedules import CronSchedule, Schedule, ScheduleError, next_occurrence

__all__ = [
    "PastDueCheck",
    "ScheduleStatus",
    "check_past_due",
    "default_time",
    "format_net_datetime",
    "format_next_occurrences",
    "initial_status",
    "parse_net_datetime",
    "status_after_invocation",
    "timer_info_json",
]

_NET_DATETIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?(Z|[+-]\d{2}:\d{2})?$")


def default_time(tz: tzinfo, now: datetime) -> datetime:
    """``default(DateTime).ToLocalTime()``: 0001-01-01 00:00:00 with the zone's offset now."""
    offset = now.astimezone(tz).utcoffset() or timedelta(0)
    return datetime(1, 1, 1, tzinfo=timezone(timedelta(minutes=offset // timedelta(minutes=1))))


def _is_default(moment: datetime) -> bool:
    return moment.year == 1


def _same(first: datetime, second: datetime) -> bool:
    if _is_default(first) or _is_default(second):
        return _is_default(first) and _is_default(second)
    return first == second


def format_net_datetime(moment: datetime) -> str:
    """Newtonsoft's ISO date: ``2022-03-28T15:40:00.0105419-05:00`` (trailing zeros dropped)."""
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.year < 1000:
        text = f"{moment.year:04d}{text[text.index('-'):]}"
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    offset = moment.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(offset) // timedelta(minutes=1)
    return f"{text}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def parse_net_datetime(text: str, tz: tzinfo) -> datetime:
    """A Newtonsoft ISO date; one without an offset is a wall time in ``tz``."""
    found = _NET_DATETIME.match(text)
    if found is None:
        raise ValueError(f"{text!r} is not an ISO date and time")
    year, month, day, hour, minute, second = (int(g) for g in found.groups()[:6])
    fraction, zone = found.group(7) or "", found.group(8)
    wall = datetime(year, month, day, hour, minute, second, int(fraction.ljust(6, "0")[:6]))
    if zone is None:
        return wall.replace(tzinfo=tz)
    if zone == "Z":
        return wall.replace(tzinfo=UTC)
    sign = -1 if zone[0] == "-" else 1
    offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])) * sign
    return wall.replace(tzinfo=timezone(offset))


@dataclass(frozen=True)
class ScheduleStatus:
    """The last and next occurrence of one timer, and when they were computed."""

    last: datetime
    next: datetime
    last_updated: datetime

    def to_json(self) -> dict[str, str]:
        return {"Last": format_net_datetime(self.last), "Next": format_net_datetime(self.next),
                "LastUpdated": format_net_datetime(self.last_updated)}

    def dumps(self) -> str:
        return json.dumps(self.to_json(), separators=(",", ":"))

    @classmethod
    def loads(cls, text: str, tz: tzinfo) -> ScheduleStatus:
        """The stored JSON; keys compared case-insensitively (Newtonsoft). ValueError if bad."""
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("a schedule status is a JSON object")
        lowered = {str(k).lower(): v for k, v in data.items()}
        values: list[datetime] = []
        for key in ("last", "next", "lastupdated"):
            value = lowered.get(key)
            if not isinstance(value, str):
                raise ValueError(f"the schedule status has no {key!r} date")
            values.append(parse_net_datetime(value, tz))
        return cls(*values)


@dataclass(frozen=True)
class PastDueCheck:
    """What the listener knows after reading the monitor at start."""

    status: ScheduleStatus
    """The listener's schedule status (the one the first invocation sees)."""
    to_store: ScheduleStatus | None
    """What the monitor must write now, if anything."""
    past_due: bool


def _next(schedule: Schedule, after: datetime, tz: tzinfo) -> datetime:
    found = next_occurrence(schedule, after, tz)
    if found is None:
        raise ScheduleError(f"the schedule {schedule} has no occurrence after "
                            f"{format_net_datetime(after)}")
    return found


def initial_status(schedule: Schedule, now: datetime, tz: tzinfo) -> ScheduleStatus:
    """The status of a timer with no stored status (TimerListener.StartAsync)."""
    default = default_time(tz, now)
    return ScheduleStatus(last=default, next=_next(schedule, now, tz), last_updated=default)


def check_past_due(now: datetime, schedule: Schedule, tz: tzinfo,
                   stored: ScheduleStatus | None) -> PastDueCheck:
    """ScheduleMonitor.CheckPastDueAsync: past due when ``now`` is after the recorded next
    occurrence; a changed schedule is re-based on ``now`` instead of reported past due."""
    now = now.astimezone(tz)
    if stored is None:
        first = _next(schedule, now, tz)
        record = ScheduleStatus(last=default_time(tz, now), next=first, last_updated=now)
        return PastDueCheck(initial_status(schedule, now, tz), record, past_due=now > first)
    if not _is_default(stored.last):
        expected, updated = _next(schedule, stored.last, tz), stored.last
    elif not _is_default(stored.last_updated):
        expected, updated = _next(schedule, stored.last_updated, tz), stored.last_updated
    else:
        expected, updated = _next(schedule, now, tz), now
    status = stored
    to_store: ScheduleStatus | None = None
    if not _same(stored.next, expected):
        if now > expected:
            expected, updated = _next(schedule, now, tz), now
        status = ScheduleStatus(last=default_time(tz, now), next=expected, last_updated=updated)
        to_store = status
    past_due = not _is_default(status.next) and now > status.next
    return PastDueCheck(status, to_store, past_due)


def status_after_invocation(schedule: Schedule, tz: tzinfo, invoked_at: datetime,
                            status: ScheduleStatus, *, scheduled: bool) -> ScheduleStatus:
    """The new status once an invocation finished; ``scheduled`` is False for past-due and
    run-on-startup runs. A scheduled run that fired early counts from its due time."""
    adjusted = invoked_at.astimezone(tz)
    if scheduled and not _is_default(status.next) and status.next > adjusted:
        adjusted = status.next
    return ScheduleStatus(last=adjusted, next=_next(schedule, adjusted, tz),
                          last_updated=adjusted)


def timer_info_json(schedule: Schedule, status: ScheduleStatus | None, past_due: bool) -> str:
    """The trigger value the worker decodes into ``func.TimerRequest``."""
    payload: dict[str, Any] = {
        "Schedule": {"AdjustForDST": isinstance(schedule, CronSchedule)},
        "ScheduleStatus": status.to_json() if status is not None else None,
        "IsPastDue": past_due,
    }
    return json.dumps(payload, separators=(",", ":"))


def _net_display(moment: datetime, utc: bool) -> str:
    """TimerInfo.DateTimeFormat ``MM/dd/yyyy HH:mm:ssK``."""
    if utc:
        return moment.astimezone(UTC).strftime("%m/%d/%Y %H:%M:%S") + "Z"
    local = format_net_datetime(moment.replace(microsecond=0))
    return moment.strftime("%m/%d/%Y %H:%M:%S") + local[19:]


def format_next_occurrences(occurrences: list[datetime], tz: tzinfo) -> str:
    """TimerInfo.FormatNextOccurrences: one line each, local then UTC unless the zone is UTC."""
    utc = all((o.astimezone(tz).utcoffset() or timedelta(0)) == timedelta(0)
              and not o.astimezone(tz).dst() for o in occurrences)
    lines = []
    for occurrence in occurrences:
        if utc:
            lines.append(_net_display(occurrence, True))
        else:
            lines.append(f"{_net_display(occurrence, False)} ({_net_display(occurrence, True)})")
    return "\n".join(lines)
