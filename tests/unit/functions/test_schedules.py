"""Schedules: NCRONTAB or TimeSpan, occurrences in a time zone, the extension's DST rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.functions.schedules import (
    ConstantSchedule,
    CronSchedule,
    ScheduleError,
    format_timespan,
    monitor_by_default,
    next_occurrence,
    next_occurrences,
    parse_schedule,
    parse_timespan,
)

PACIFIC = ZoneInfo("America/Los_Angeles")


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0,
       offset_hours: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=timezone(timedelta(hours=offset_hours)))


@pytest.mark.parametrize(("text", "expected"), [
    ("0", timedelta(0)),
    ("14", timedelta(days=14)),
    ("1:2:3", timedelta(hours=1, minutes=2, seconds=3)),
    ("0:0:0.250", timedelta(milliseconds=250)),
    ("10.20:30:40.50", timedelta(days=10, hours=20, minutes=30, seconds=40.5)),
    ("99.23:59:59.9999999", timedelta(days=99, hours=23, minutes=59, seconds=59,
                                      microseconds=999_999)),
    ("0023:0059:0059.0099", timedelta(hours=23, minutes=59, seconds=59, microseconds=9900)),
    ("23:0:0", timedelta(hours=23)),
    ("24:00:00", timedelta(days=24)),
    ("0:60:0", None), ("0:0:60", None), ("10:", None), (":10", None), (".123", None),
    ("10.", None), ("10.12", None), ("-01:00:00", None), ("1:2:3.12345678", None),
    ("10:0", timedelta(hours=10)),
    ("0.12:00", timedelta(hours=12)),
    ("10.12:00", timedelta(days=10, hours=12)),
    ("1:2:3:4", timedelta(days=1, hours=2, minutes=3, seconds=4)),
    ("1.02:03:04", timedelta(days=1, hours=2, minutes=3, seconds=4)),
    ("1:02:03:04.5", timedelta(days=1, hours=2, minutes=3, seconds=4.5)),
    ("  00:30:00 ", timedelta(minutes=30)),
    ("00:30:00x", None), ("", None), ("1 :2", None),
])
def test_schedules_timespan_parses_like_dotnet(text: str, expected: timedelta | None) -> None:
    assert parse_timespan(text) == expected


@pytest.mark.parametrize(("value", "text"), [
    (timedelta(minutes=30), "00:30:00"),
    (timedelta(days=24), "24.00:00:00"),
    (timedelta(days=1, seconds=3723, microseconds=500_000), "1.01:02:03.5000000"),
])
def test_schedules_timespan_prints_like_dotnet(value: timedelta, text: str) -> None:
    assert format_timespan(value) == text
    assert str(ConstantSchedule(value)) == f"Constant: {text}"


def test_schedules_cron_first_then_timespan() -> None:
    assert isinstance(parse_schedule("0 */5 * * * *"), CronSchedule)
    assert str(parse_schedule("0 */5 * * * *")) == "Cron: '0 0,5,10,15,20,25,30,35,40,45,50,55 " \
                                                   "* * * *'"
    assert parse_schedule("00:05:00") == ConstantSchedule(timedelta(minutes=5))
    assert parse_schedule("5") == ConstantSchedule(timedelta(days=5))


@pytest.mark.parametrize(("expression", "message"), [
    ("every minute", "The schedule expression 'every minute' was not recognized as a valid cron "
                     "expression or timespan string."),
    ("0 */5 * * * * *", "was not recognized as a valid cron expression or timespan string."),
    ("61 * * * * *", "61 is higher than the maximum allowable value for the [Second] field"),
    ("00:00:00", "is a TimeSpan of zero"),
    ("0 0 0 30 2 *", "never occurs"),
])
def test_schedules_refusals_say_why(expression: str, message: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_schedule(expression)
    assert message in str(caught.value)


def offsets(expression: str, start: datetime, count: int) -> list[tuple[str, int]]:
    found = next_occurrences(parse_schedule(expression), start, PACIFIC, count)
    return [(o.strftime("%m-%d %H:%M"), int(o.utcoffset().total_seconds() // 3600))
            for o in found]


# The extension's own CronScheduleTests, Pacific time, 2018 (spring forward 3/11, fall back 11/4).
DST_CASES = [
    ("interval into DST", "0 30 * * * *", datetime(2018, 3, 11), [
        ("03-11 00:30", -8), ("03-11 01:30", -8), ("03-11 03:30", -7), ("03-11 04:30", -7),
        ("03-11 05:30", -7)]),
    ("point in time into DST", "0 30 1 * * *", datetime(2018, 3, 10), [
        ("03-10 01:30", -8), ("03-11 01:30", -8), ("03-12 01:30", -7), ("03-13 01:30", -7),
        ("03-14 01:30", -7)]),
    ("interval within the ambiguous hour", "0 */20 * * * *", datetime(2018, 11, 4, 0, 30), [
        ("11-04 00:40", -7), ("11-04 01:00", -7), ("11-04 01:20", -7), ("11-04 01:40", -7),
        ("11-04 01:00", -8), ("11-04 01:20", -8), ("11-04 01:40", -8), ("11-04 02:00", -8),
        ("11-04 02:20", -8)]),
    ("interval out of DST", "0 30 * * * *", datetime(2018, 11, 4), [
        ("11-04 00:30", -7), ("11-04 01:30", -7), ("11-04 01:30", -8), ("11-04 02:30", -8),
        ("11-04 03:30", -8)]),
    ("point in time out of DST runs once", "0 30 1 * * *", datetime(2018, 11, 3), [
        ("11-03 01:30", -7), ("11-04 01:30", -7), ("11-05 01:30", -8), ("11-06 01:30", -8),
        ("11-07 01:30", -8)]),
]


@pytest.mark.parametrize(("case", "expression", "start", "expected"), DST_CASES,
                         ids=[c[0] for c in DST_CASES])
def test_schedules_daylight_saving_like_the_extension(case, expression, start,
                                                      expected) -> None:
    assert offsets(expression, start.replace(tzinfo=PACIFIC), len(expected)) == expected


def test_schedules_point_in_time_started_after_fall_back_skips_the_repeat() -> None:
    start = datetime(2018, 11, 4, 1, 29, tzinfo=PACIFIC, fold=1)
    assert offsets("0 30 1 * * *", start, 1) == [("11-05 01:30", -8)]


def test_schedules_timespan_counts_real_time_across_dst() -> None:
    start = datetime(2018, 3, 11, 1, 30, tzinfo=PACIFIC)
    found = next_occurrence(ConstantSchedule(timedelta(hours=1)), start, PACIFIC)
    assert found is not None
    assert (found.hour, found.utcoffset()) == (3, timedelta(hours=-7))


def test_schedules_next_occurrence_is_in_the_zone_and_needs_aware_input() -> None:
    found = next_occurrence(parse_schedule("0 0 9 * * *"), at(2021, 6, 1, 20), PACIFIC)
    assert found == datetime(2021, 6, 2, 9, tzinfo=PACIFIC)
    with pytest.raises(ValueError):
        next_occurrence(parse_schedule("0 0 9 * * *"), datetime(2021, 6, 1), PACIFIC)


@pytest.mark.parametrize(("expression", "use_monitor", "monitored"), [
    ("* * * * * *", True, False),
    ("*/30 * * * * *", True, False),
    ("0 * * * * *", True, True),
    ("0 */5 * * * *", True, True),
    ("* * * * *", True, True),
    ("0 0 * * * *", False, False),
    ("00:00:30", True, False),
    ("00:01:00", True, True),
])
def test_schedules_monitor_is_off_for_sub_minute_schedules(expression: str, use_monitor: bool,
                                                            monitored: bool) -> None:
    now = at(2021, 6, 1, 12, 0) + timedelta(seconds=10)
    assert monitor_by_default(parse_schedule(expression), use_monitor, now, UTC) is monitored


CRONS = st.sampled_from(["* * * * * *", "0 */7 * * * *", "0 30 1 * * *", "0 0 */3 * * *",
                         "15 10 2 * * Sun", "0 0 0 1 * *", "0 0,30 0-3 * * *",
                         "0 */20 * * * *"])


@settings(max_examples=200, deadline=None)
@given(expression=CRONS, zone=st.sampled_from([UTC, PACIFIC, ZoneInfo("Europe/Berlin"),
                                               ZoneInfo("Australia/Lord_Howe")]),
       start=st.datetimes(min_value=datetime(2018, 1, 1), max_value=datetime(2030, 1, 1),
                          timezones=st.just(UTC)))
def test_schedules_occurrences_increase_and_match_the_wall_clock(expression, zone,
                                                                 start) -> None:
    schedule = parse_schedule(expression)
    assert isinstance(schedule, CronSchedule)
    previous = start
    for found in next_occurrences(schedule, start, zone, 4):
        assert found > previous
        wall = found.astimezone(zone).replace(tzinfo=None)
        moved = wall - (found.dst() or timedelta(0))  # a skipped wall time runs after the gap
        assert schedule.cron.matches(wall) or schedule.cron.matches(moved)
        previous = found
