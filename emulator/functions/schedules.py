"""Timer schedules: NCRONTAB or TimeSpan, and their next occurrence in a time zone, pure.

The timer extension tries the expression as NCRONTAB first, then as a .NET ``TimeSpan``, else
refuses it (``Azure/azure-webjobs-sdk-extensions src/WebJobs.Extensions/Extensions/Timers/
Scheduling/TimerSchedule.cs`` ``Create``). Occurrences of a cron schedule are wall-clock times
in the host's time zone, with the extension's rules for daylight saving time
(``Scheduling/CronSchedule.cs`` ``GetNextOccurrence`` / ``TryAdjustAmbiguousTime``); a TimeSpan
schedule is a constant interval of real time (``Scheduling/ConstantSchedule.cs``). See
docs/functions-host-indexing-and-timers.md, "Schedules".

Nothing here reads the clock: every function takes ``now`` / ``after`` as an aware datetime and
the zone as a ``tzinfo``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from .ncrontab import CronExpression, CronSyntaxError, parse_cron

__all__ = [
    "ConstantSchedule",
    "CronSchedule",
    "Schedule",
    "ScheduleError",
    "monitor_by_default",
    "next_occurrence",
    "next_occurrences",
    "parse_schedule",
    "parse_timespan",
]

_MAX_DAYS = 10_675_199  # TimeSpan.MaxValue.Days
_TOKEN = re.compile(r"[0-9]+|[.:]|.", re.DOTALL)
_ZERO = timedelta(0)


class ScheduleError(ValueError):
    """The schedule expression is neither NCRONTAB nor a TimeSpan (the extension's text)."""


@dataclass(frozen=True)
class CronSchedule:
    """An NCRONTAB schedule: wall-clock times in the host's time zone."""

    cron: CronExpression

    def __str__(self) -> str:
        return f"Cron: '{self.cron}'"


@dataclass(frozen=True)
class ConstantSchedule:
    """A TimeSpan schedule: a fixed interval of real time between occurrences."""

    interval: timedelta

    def __str__(self) -> str:
        return f"Constant: {format_timespan(self.interval)}"


Schedule = CronSchedule | ConstantSchedule


def format_timespan(value: timedelta) -> str:
    """.NET ``TimeSpan.ToString()``: ``[d.]hh:mm:ss[.fffffff]``."""
    days, rest = value.days, value.seconds
    text = f"{rest // 3600:02d}:{rest // 60 % 60:02d}:{rest % 60:02d}"
    if value.microseconds:
        text += f".{value.microseconds * 10:07d}"
    return f"{days}.{text}" if days else text


def parse_timespan(text: str) -> timedelta | None:
    """.NET ``TimeSpan.TryParse`` for the forms a schedule uses, or None.

    ``d``, ``h:m``, ``h:m:s`` (or ``d:h:m`` when the hours do not fit: ``24:00:00`` is 24
    days), ``d.h:m``, ``h:m:s.f``, ``d.h:m:s``, ``d:h:m:s``, ``d.h:m:s.f``, ``d:h:m:s.f``; up to
    seven fraction digits; surrounding white space allowed. Negative spans are refused here.
    """
    tokens = _TOKEN.findall(text.strip())
    numbers = tokens[0::2]
    separators = "".join(tokens[1::2])
    if not tokens or len(tokens) % 2 == 0 or not all(n.isdigit() for n in numbers) \
            or any(s not in ".:" for s in separators):
        return None
    shapes = {
        "": ("d",), ":": ("hm",), "::": ("hms", "dhm"), ".:": ("dhm",), "::.": ("hmsf",),
        ".::": ("dhms",), ":::": ("dhms",), ".::.": ("dhmsf",), ":::.": ("dhmsf",),
    }
    for shape in shapes.get(separators, ()):
        value = _timespan(shape, numbers)
        if value is not None:
            return value
    return None


def _timespan(shape: str, numbers: list[str]) -> timedelta | None:
    parts = dict(zip(shape, numbers, strict=True))
    fraction = parts.pop("f", "")
    if len(fraction) > 7:
        return None
    days, hours = int(parts.get("d", "0")), int(parts.get("h", "0"))
    minutes, seconds = int(parts.get("m", "0")), int(parts.get("s", "0"))
    if days > _MAX_DAYS or hours > 23 or minutes > 59 or seconds > 59:
        return None
    ticks = int(fraction.ljust(7, "0")) if fraction else 0
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds,
                     microseconds=ticks // 10)


def parse_schedule(expression: str) -> Schedule:
    """NCRONTAB first, then TimeSpan (TimerSchedule.Create); ScheduleError otherwise."""
    cron_error: CronSyntaxError | None = None
    try:
        cron = parse_cron(expression)
    except CronSyntaxError as exc:
        cron_error = exc
    else:
        if cron.never_fires:
            raise ScheduleError(f"The schedule expression '{expression}' never occurs: no month "
                                f"of it has the day it names.")
        return CronSchedule(cron)
    interval = parse_timespan(expression)
    if interval is not None:
        if interval <= _ZERO:
            raise ScheduleError(f"The schedule expression '{expression}' is a TimeSpan of zero; "
                                f"a timer needs a positive interval.")
        return ConstantSchedule(interval)
    fields = len([t for t in expression.split(" ") if t])
    detail = f" ({cron_error})" if fields in (5, 6) else ""
    raise ScheduleError(f"The schedule expression '{expression}' was not recognized as a valid "
                        f"cron expression or timespan string.{detail}")


# --- time zones --------------------------------------------------------------------------


def _both_folds(wall: datetime, tz: tzinfo) -> tuple[datetime, datetime]:
    naive = wall.replace(tzinfo=None)
    return naive.replace(tzinfo=tz, fold=0), naive.replace(tzinfo=tz, fold=1)


def _is_ambiguous(moment: datetime, tz: tzinfo) -> bool:
    """The wall-clock time of the instant ``moment`` happens twice in ``tz`` (clocks fall back):
    a wall time that exists and has two offsets."""
    first, second = _both_folds(moment.astimezone(tz), tz)
    return first.utcoffset() != second.utcoffset()


def _is_ambiguous_wall(wall: datetime, tz: tzinfo) -> bool:
    return _is_ambiguous(_standard(wall, tz), tz)


def _standard(wall: datetime, tz: tzinfo) -> datetime:
    """.NET ``new DateTimeOffset(localDateTime).ToLocalTime()``: an ambiguous or skipped wall
    time takes the zone's standard offset, then is expressed as a real instant in ``tz``."""
    first, second = _both_folds(wall, tz)
    if first.utcoffset() == second.utcoffset():
        return first
    chosen = first if first.dst() == _ZERO else second
    return chosen.astimezone(UTC).astimezone(tz)


def _shift(moment: datetime, by: timedelta, tz: tzinfo) -> datetime:
    """``TimeZoneInfo.ConvertTime(moment.Add(by), tz)``: real time moved by ``by``."""
    return (moment.astimezone(UTC) + by).astimezone(tz)


def _next_cron(schedule: CronSchedule, now: datetime, tz: tzinfo) -> datetime | None:
    wall = schedule.cron.next_after(now.replace(tzinfo=None))
    if wall is None:
        return None
    nxt = _standard(wall, tz)
    now_ambiguous, next_ambiguous = _is_ambiguous(now, tz), _is_ambiguous(nxt, tz)
    if not (now_ambiguous or next_ambiguous):
        return nxt
    offset_change = (nxt.utcoffset() or _ZERO) - (now.utcoffset() or _ZERO)
    interval = schedule.cron.is_interval
    if not interval and next_ambiguous and offset_change:
        # Fall back, point in time, first pass: run it once, on the daylight offset.
        return _shift(nxt, offset_change, tz)
    if not interval and next_ambiguous:
        # Fall back, point in time, already on standard time: it ran on daylight time.
        while wall is not None and _is_ambiguous_wall(wall, tz):
            wall = schedule.cron.next_after(wall)
        return None if wall is None else _standard(wall, tz)
    if interval and offset_change:
        # Fall back, interval: keep running through the repeated hour.
        return _shift(nxt, offset_change, tz)
    return nxt


def next_occurrence(schedule: Schedule, after: datetime, tz: tzinfo) -> datetime | None:
    """The occurrence after the aware ``after``, as an aware datetime in ``tz`` (None: never)."""
    if after.tzinfo is None:
        raise ValueError("next_occurrence needs an aware datetime")
    now = after.astimezone(tz)
    if isinstance(schedule, ConstantSchedule):
        return _shift(now, schedule.interval, tz)
    return _next_cron(schedule, now, tz)


def next_occurrences(schedule: Schedule, after: datetime, tz: tzinfo,
                     count: int) -> list[datetime]:
    """``count`` occurrences in a row (TimerSchedule.GetNextOccurrences)."""
    found: list[datetime] = []
    moment: datetime | None = after
    while moment is not None and len(found) < count:
        moment = next_occurrence(schedule, moment, tz)
        if moment is not None:
            found.append(moment)
    return found


def monitor_by_default(schedule: Schedule, use_monitor: bool, now: datetime,
                       tz: tzinfo) -> bool:
    """``use_monitor`` unless the schedule fires more than once a minute
    (TimerSchedule.ShouldDisableScheduleMonitor; constant intervals under a minute)."""
    if not use_monitor:
        return False
    if isinstance(schedule, ConstantSchedule):
        return schedule.interval >= timedelta(minutes=1)
    if any(part != "*" for part in str(schedule.cron).split(" ")[1:]):
        return True
    wall = now.astimezone(tz).replace(tzinfo=None)
    end = wall + timedelta(minutes=1)
    first = schedule.cron.next_after(wall)
    second = schedule.cron.next_after(first) if first is not None else None
    return not (first is not None and second is not None and second < end)
