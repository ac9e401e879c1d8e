"""NCRONTAB expressions as the timer extension parses them, pure.

The timer trigger hands its schedule to NCrontab (``atifaziz/NCrontab``
``NCrontab/CrontabSchedule.cs``, ``CrontabField.cs``, ``CrontabFieldImpl.cs``); the extension asks
for a seconds field unless the expression has exactly five fields (``Azure/azure-webjobs-sdk-
extensions src/WebJobs.Extensions/Extensions/Timers/Scheduling/CronSchedule.cs`` ``HasSeconds``).
The rules copied here (docs/functions-host-indexing-and-timers.md, "Schedules"):

- fields are split on spaces; six fields are ``second minute hour day month day-of-week``, five
  fields drop the seconds (which are then always 0);
- a field is a comma list of ``*``, ``v``, ``a-b`` (swapped when ``a > b``), each optionally
  ``/step``; ``v/step`` means ``v-max/step``; a step below 1 counts as 1;
- months and days of the week also take English names, case-insensitive, any prefix of the name
  (``Mon``, ``Monday``, ``M`` is Monday, the first name it prefixes); Sunday is 0, 7 is refused;
- the day of the month AND the day of the week must both match (not cron's "or");
- the next occurrence is the first matching whole second strictly after the base time.

Values are plain naive wall-clock ``datetime`` s; time zones are :mod:`.schedules`' business.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

__all__ = ["CronExpression", "CronSyntaxError", "parse_cron"]

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")


_DIGITS = "0123456789"


def _is_number(text: str) -> bool:
    return bool(text) and all(c in _DIGITS for c in text)


class CronSyntaxError(ValueError):
    """The expression is not a valid crontab expression (NCrontab's CrontabException text)."""


@dataclass(frozen=True)
class _Field:
    kind: str
    low: int
    high: int
    names: tuple[str, ...] = ()


_SECOND = _Field("Second", 0, 59)
_MINUTE = _Field("Minute", 0, 59)
_HOUR = _Field("Hour", 0, 23)
_DAY = _Field("Day", 1, 31)
_MONTH = _Field("Month", 1, 12, _MONTHS)
_DAY_OF_WEEK = _Field("DayOfWeek", 0, 6, _DAYS)
_SIX = (_SECOND, _MINUTE, _HOUR, _DAY, _MONTH, _DAY_OF_WEEK)


def _value(field: _Field, text: str) -> int:
    if not text:
        raise CronSyntaxError("A crontab field value cannot be empty.")
    if text[0] in _DIGITS:
        if not _is_number(text):
            raise CronSyntaxError(f"'{text}' is not a valid number.")
        return int(text)
    if not field.names:
        raise CronSyntaxError(f"'{text}' is not a valid [{field.kind}] crontab field value. It "
                              f"must be a numeric value between {field.low} and {field.high} "
                              f"(all inclusive).")
    for index, name in enumerate(field.names):
        if name.lower().startswith(text.lower()):
            return index + field.low
    raise CronSyntaxError(f"'{text}' is not a known value name. Use one of the following: "
                          f"{', '.join(field.names)}.")


def _check(field: _Field, value: int) -> int:
    if value < field.low:
        raise CronSyntaxError(f"{value} is lower than the minimum allowable value for the "
                              f"[{field.kind}] field. Value must be between {field.low} and "
                              f"{field.high} (all inclusive).")
    if value > field.high:
        raise CronSyntaxError(f"{value} is higher than the maximum allowable value for the "
                              f"[{field.kind}] field. Value must be between {field.low} and "
                              f"{field.high} (all inclusive).")
    return value


def _part(field: _Field, text: str) -> Iterable[int]:
    """One comma-separated element (CrontabFieldImpl.InternalParse + CrontabField.Accumulate)."""
    step = 1
    slash = text.find("/")
    if slash > 0:
        step_text = text[slash + 1:]
        if not _is_number(step_text):
            raise CronSyntaxError(f"'{step_text}' is not a valid step.")
        step = max(int(step_text), 1)
        text = text[:slash]
    if text == "*":
        return range(field.low, field.high + 1, step)
    dash = text.find("-")
    if dash > 0:
        first, last = _value(field, text[:dash]), _value(field, text[dash + 1:])
        first, last = min(first, last), max(first, last)
        return range(_check(field, first), _check(field, last) + 1, step)
    value = _check(field, _value(field, text))
    if slash > 0:
        return range(value, field.high + 1, step)
    return (value,)


def _parse_field(field: _Field, text: str) -> frozenset[int]:
    try:
        if text.find(",") > 0:
            return frozenset(v for item in text.split(",") for v in _part(field, item))
        return frozenset(_part(field, text))
    except CronSyntaxError as exc:
        raise CronSyntaxError(f"'{text}' is not a valid [{field.kind}] crontab field "
                              f"expression. {exc}") from None


def _format_field(field: _Field, values: frozenset[int]) -> str:
    """NCrontab's ``ToString``: ``*`` for all values, runs as ``a-b``, else a comma list."""
    if values == frozenset(range(field.low, field.high + 1)):
        return "*"
    runs: list[str] = []
    ordered = sorted(values)
    start = previous = ordered[0]
    for value in [*ordered[1:], None]:
        if value is not None and value == previous + 1:
            previous = value
            continue
        runs.append(str(start) if start == previous else f"{start}-{previous}")
        if value is not None:
            start = previous = value
    return ",".join(runs)


def _is_run(field: _Field, values: frozenset[int]) -> bool:
    """True when the formatted field holds ``*`` or ``-`` (CronSchedule's interval test)."""
    text = _format_field(field, values)
    return "*" in text or "-" in text


@dataclass(frozen=True)
class CronExpression:
    """A parsed NCRONTAB expression: the allowed values of each field."""

    expression: str
    has_seconds: bool
    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    days_of_week: frozenset[int]

    def __str__(self) -> str:
        """The expanded form NCrontab prints (``0 0,30 * * * *``)."""
        fields = [(_MINUTE, self.minutes), (_HOUR, self.hours), (_DAY, self.days),
                  (_MONTH, self.months), (_DAY_OF_WEEK, self.days_of_week)]
        if self.has_seconds:
            fields.insert(0, (_SECOND, self.seconds))
        return " ".join(_format_field(f, v) for f, v in fields)

    @property
    def is_interval(self) -> bool:
        """CronSchedule.IsInterval: a seconds, minutes or hours field that is a range or ``*``."""
        checked = [(_SECOND, self.seconds)] if self.has_seconds else []
        checked += [(_MINUTE, self.minutes), (_HOUR, self.hours)]
        return any(_is_run(f, v) for f, v in checked)

    @property
    def never_fires(self) -> bool:
        """No (month, day) pair of the expression exists in any year (``0 0 0 30 2 *``)."""
        return not any(day <= calendar.monthrange(2000, month)[1]  # 2000 is a leap year
                       for month in self.months for day in self.days)

    def matches(self, moment: datetime) -> bool:
        return (moment.second in self.seconds and moment.minute in self.minutes
                and moment.hour in self.hours and moment.day in self.days
                and moment.month in self.months
                and (moment.weekday() + 1) % 7 in self.days_of_week)

    def next_after(self, base: datetime) -> datetime | None:
        """The first matching whole second strictly after ``base`` (naive wall clock).

        None when there is none before year 10000 (or the expression never fires).
        """
        if self.never_fires:
            return None
        moment = base.replace(microsecond=0, tzinfo=None)
        try:
            moment += timedelta(seconds=1)
            # Each step moves to the start of the next candidate month, day, hour, minute or
            # second; every (month, day) of the 400-year Gregorian cycle falls on every day
            # of the week, so a valid expression matches within 401 years.
            for _ in range(1_000_000):
                if moment.year > base.year + 401:
                    return None
                moved = self._advance(moment)
                if moved is None:
                    return moment
                moment = moved
        except (OverflowError, ValueError):  # past year 9999
            return None
        raise AssertionError("next_after did not converge")  # pragma: no cover

    def _advance(self, t: datetime) -> datetime | None:
        """None when ``t`` matches, else the next moment that could."""
        if t.month not in self.months:
            month = _after(self.months, t.month)
            if month is not None:
                return datetime(t.year, month, 1)
            return datetime(t.year + 1, min(self.months), 1)
        if t.day not in self.days or (t.weekday() + 1) % 7 not in self.days_of_week:
            return datetime.combine(t.date() + timedelta(days=1), time())
        if t.hour not in self.hours:
            hour = _after(self.hours, t.hour)
            if hour is not None:
                return t.replace(hour=hour, minute=0, second=0)
            return datetime.combine(t.date() + timedelta(days=1), time())
        if t.minute not in self.minutes:
            minute = _after(self.minutes, t.minute)
            if minute is not None:
                return t.replace(minute=minute, second=0)
            return t.replace(minute=0, second=0) + timedelta(hours=1)
        if t.second not in self.seconds:
            second = _after(self.seconds, t.second)
            if second is not None:
                return t.replace(second=second)
            return t.replace(second=0) + timedelta(minutes=1)
        return None


def _after(values: frozenset[int], value: int) -> int | None:
    """The smallest of ``values`` above ``value``."""
    return min((v for v in values if v > value), default=None)


def parse_cron(expression: str) -> CronExpression:
    """Parse five or six NCRONTAB fields; raises :class:`CronSyntaxError` with NCrontab's text."""
    tokens = [t for t in expression.split(" ") if t]
    has_seconds = len(tokens) != 5
    if len(tokens) not in (5, 6):
        raise CronSyntaxError(
            f"'{expression}' is an invalid crontab expression. It must contain 6 components of "
            f"a schedule in the sequence of seconds, minutes, hours, days, months, and days of "
            f"week.")
    fields = _SIX if has_seconds else _SIX[1:]
    values = [_parse_field(f, t) for f, t in zip(fields, tokens, strict=True)]
    if not has_seconds:
        values.insert(0, frozenset({0}))
    return CronExpression(expression, has_seconds, *values)
