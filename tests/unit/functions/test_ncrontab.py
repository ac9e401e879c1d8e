"""NCRONTAB parsing, printing and next occurrences, against NCrontab's rules."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.functions.ncrontab import CronExpression, CronSyntaxError, parse_cron

ALL_SECONDS = frozenset(range(60))


@pytest.mark.parametrize(("expression", "field", "values"), [
    ("*/15 * * * * *", "seconds", {0, 15, 30, 45}),
    ("5/20 * * * * *", "seconds", {5, 25, 45}),
    ("1,3,5 * * * * *", "seconds", {1, 3, 5}),
    ("10-12,40 * * * * *", "seconds", {10, 11, 12, 40}),
    ("12-10 * * * * *", "seconds", {10, 11, 12}),
    ("0-10/5 * * * * *", "seconds", {0, 5, 10}),
    ("*/0 * * * * *", "seconds", ALL_SECONDS),
    ("0 0 0 * Jan Mon", "months", {1}),
    ("0 0 0 * Jan Mon", "days_of_week", {1}),
    ("0 0 0 * JANUARY-mar *", "months", {1, 2, 3}),
    ("0 0 0 * Ju *", "months", {6}),
    ("0 0 0 * * T", "days_of_week", {2}),
    ("0 0 0 * * sat,SUN", "days_of_week", {6, 0}),
    ("0 0 0 * * Mon/2", "days_of_week", {1, 3, 5}),
    ("0 0 9-17 * * *", "hours", set(range(9, 18))),
    ("0 0 0 1,15 * *", "days", {1, 15}),
])
def test_ncrontab_parses_fields(expression: str, field: str, values: set[int]) -> None:
    assert getattr(parse_cron(expression), field) == frozenset(values)


def test_ncrontab_five_fields_have_no_seconds() -> None:
    cron = parse_cron("*/1 * * * *")
    assert not cron.has_seconds
    assert cron.seconds == frozenset({0})
    assert cron.minutes == frozenset(range(60))
    assert str(cron) == "* * * * *"


def test_ncrontab_splits_on_spaces_only() -> None:
    assert parse_cron("  0   */5 * * * *  ").minutes == frozenset(range(0, 60, 5))
    with pytest.raises(CronSyntaxError):
        parse_cron("0\t*/5 * * * *")


@pytest.mark.parametrize(("expression", "message"), [
    ("* * * *", "It must contain 6 components"),
    ("* * * * * * *", "It must contain 6 components"),
    ("60 * * * * *", "60 is higher than the maximum allowable value for the [Second] field"),
    ("* * * 0 * *", "0 is lower than the minimum allowable value for the [Day] field"),
    ("* * * * * 7", "7 is higher than the maximum allowable value for the [DayOfWeek] field"),
    ("* * * * 13 *", "13 is higher than the maximum allowable value for the [Month] field"),
    ("* * * * Foo *", "'Foo' is not a known value name"),
    ("Mon * * * * *", "'Mon' is not a valid [Second] crontab field value"),
    ("5, * * * * *", "A crontab field value cannot be empty"),
    (",5 * * * * *", "',5' is not a valid [Second] crontab field"),
    ("*/x * * * * *", "'*/x' is not a valid [Second] crontab field expression"),
    ("-5 * * * * *", "'-5' is not a valid [Second] crontab field"),
    ("5- * * * * *", "cannot be empty"),
    ("١ * * * * *", "not a valid [Second]"),
])
def test_ncrontab_refuses_with_ncrontab_text(expression: str, message: str) -> None:
    with pytest.raises(CronSyntaxError, match=message.replace("[", r"\[").replace("]", r"\]")
                       .replace("*", r"\*")):
        parse_cron(expression)


@pytest.mark.parametrize(("expression", "printed"), [
    ("0 59 11 * * 1-5", "0 59 11 * * 1-5"),
    ("*/15 * * * * *", "0,15,30,45 * * * * *"),
    ("0 0 0 * Jan Mon", "0 0 0 * 1 1"),
    ("0-59 1,2,3,7 * * * *", "* 1-3,7 * * * *"),
    ("0 0 12 * * Sun-Sat", "0 0 12 * * *"),
])
def test_ncrontab_prints_the_expanded_expression(expression: str, printed: str) -> None:
    assert str(parse_cron(expression)) == printed


@pytest.mark.parametrize(("expression", "interval"), [
    ("* * * * * *", True), ("0 * * * * *", True), ("0 0 * * * *", True),
    ("0 0-15 * * * *", True), ("0 0 * * * 0", True), ("0 0 1-3 * * 0", True),
    ("0 0 0 * * *", False), ("0 0 0 1 * *", False), ("0 0 0 1 1 *", False),
    ("0 0 0 * * 1", False), ("* * * * *", True), ("0 * * * *", True),
    ("0-15 * * * *", True), ("0 * * * 0", True), ("0 1-3 * * 0", True),
    (" 0 1 * * *", False), ("0 0 * * *", False), ("0 0 1 * *", False),
    ("0 0 1 1 *", False), ("0 0 * * 1", False),
])
def test_ncrontab_is_interval_as_the_extension_decides(expression: str, interval: bool) -> None:
    assert parse_cron(expression).is_interval is interval


def test_ncrontab_next_after_weekdays_at_11_59() -> None:
    cron = parse_cron("0 59 11 * * 1-5")
    moment = datetime(2015, 5, 23, 9, 0)
    for weekday in range(5):
        found = cron.next_after(moment)
        assert found is not None
        assert (found.weekday(), found.hour, found.minute) == (weekday, 11, 59)
        moment = found + timedelta(seconds=1)


@pytest.mark.parametrize(("expression", "base", "expected"), [
    ("0 0 0 31 * *", datetime(2021, 1, 31, 0, 0), datetime(2021, 3, 31)),
    ("0 0 0 29 2 *", datetime(2021, 1, 1), datetime(2024, 2, 29)),
    ("0 0 0 29 2 1", datetime(2021, 1, 1), datetime(2044, 2, 29)),
    ("* * * * * *", datetime(2021, 1, 1, 0, 0, 0, 500_000), datetime(2021, 1, 1, 0, 0, 1)),
    ("0 * * * * *", datetime(2021, 1, 1, 0, 0, 0), datetime(2021, 1, 1, 0, 1, 0)),
    ("0 0 0 1 1 *", datetime(2021, 12, 31, 23, 59, 59), datetime(2022, 1, 1)),
    ("30 15 10 * * *", datetime(2021, 1, 1, 10, 15, 30), datetime(2021, 1, 2, 10, 15, 30)),
])
def test_ncrontab_next_after_is_strictly_after(expression: str, base: datetime,
                                               expected: datetime) -> None:
    assert parse_cron(expression).next_after(base) == expected


def test_ncrontab_never_firing_and_year_limit() -> None:
    assert parse_cron("0 0 0 30 2 *").never_fires
    assert parse_cron("0 0 0 30 2 *").next_after(datetime(2021, 1, 1)) is None
    assert parse_cron("0 0 0 1 1 *").next_after(datetime(9999, 6, 1)) is None
    assert not parse_cron("0 0 0 31 1,3 *").never_fires


def reference_next(cron: CronExpression, base: datetime, days: int) -> datetime | None:
    """A plain search over days, then hours, minutes and seconds in order."""
    base = base.replace(microsecond=0)
    start = base.date()
    for offset in range(days):
        day = start + timedelta(days=offset)
        if not (day.month in cron.months and day.day in cron.days
                and (day.weekday() + 1) % 7 in cron.days_of_week):
            continue
        for hour in sorted(cron.hours):
            for minute in sorted(cron.minutes):
                for second in sorted(cron.seconds):
                    moment = datetime(day.year, day.month, day.day, hour, minute, second)
                    if moment > base:
                        return moment
    return None


def subsets(low: int, high: int) -> st.SearchStrategy[frozenset[int]]:
    return st.frozensets(st.integers(low, high), min_size=1, max_size=4)


@settings(max_examples=300, deadline=None)
@given(seconds=subsets(0, 59), minutes=subsets(0, 59), hours=subsets(0, 23),
       days=st.one_of(st.just(frozenset(range(1, 32))), subsets(1, 31)),
       months=st.one_of(st.just(frozenset(range(1, 13))), subsets(1, 12)),
       dows=st.one_of(st.just(frozenset(range(7))), subsets(0, 6)),
       base=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1)))
def test_ncrontab_next_after_matches_a_plain_search(seconds, minutes, hours, days, months,
                                                    dows, base) -> None:
    cron = CronExpression("generated", True, seconds, minutes, hours, days, months, dows)
    expected = reference_next(cron, base, days=366 * 30)
    found = cron.next_after(base)
    if expected is None:
        assert found is None or found.date() >= base.date() + timedelta(days=366 * 30)
    else:
        assert found == expected
        assert cron.matches(found)


@given(st.dates(min_value=date(2001, 1, 1), max_value=date(2399, 12, 31)))
def test_ncrontab_daily_schedule_hits_every_day(day: date) -> None:
    found = parse_cron("0 0 12 * * *").next_after(datetime.combine(day, datetime.min.time()))
    assert found == datetime(day.year, day.month, day.day, 12)
