"""Schedule status, past-due detection and the TimerInfo JSON the worker decodes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from azure.functions.meta import Datum
from azure.functions.timer import TimerRequestConverter
from hypothesis import given
from hypothesis import strategies as st

from emulator.functions.schedules import parse_schedule
from emulator.functions.timer_status import (
    ScheduleStatus,
    check_past_due,
    default_time,
    format_net_datetime,
    format_next_occurrences,
    parse_net_datetime,
    status_after_invocation,
    timer_info_json,
)

HOURLY = parse_schedule("0 0 * * * *")
CENTRAL = timezone(timedelta(hours=-5))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(("moment", "text"), [
    (datetime(2022, 3, 28, 15, 40, 0, 10541, tzinfo=CENTRAL), "2022-03-28T15:40:00.010541-05:00"),
    (datetime(2022, 3, 28, 15, 45, tzinfo=CENTRAL), "2022-03-28T15:45:00-05:00"),
    (utc(2022, 3, 28, 15, 45, 0, 500_000), "2022-03-28T15:45:00.5+00:00"),
    (default_time(UTC, utc(2022, 1, 1)), "0001-01-01T00:00:00+00:00"),
])
def test_timer_status_dates_are_newtonsoft_iso(moment: datetime, text: str) -> None:
    assert format_net_datetime(moment) == text
    assert parse_net_datetime(text, UTC) == moment


def test_timer_status_parses_seven_digits_z_and_no_offset() -> None:
    assert parse_net_datetime("2022-03-28T15:40:00.0105419-05:00", UTC) == \
        datetime(2022, 3, 28, 15, 40, 0, 10541, tzinfo=CENTRAL)
    assert parse_net_datetime("2022-03-28T15:40:00Z", CENTRAL) == utc(2022, 3, 28, 15, 40)
    assert parse_net_datetime("2022-03-28T15:40:00", CENTRAL) == \
        datetime(2022, 3, 28, 15, 40, tzinfo=CENTRAL)
    with pytest.raises(ValueError):
        parse_net_datetime("yesterday", UTC)


@given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(9000, 1, 1),
                    timezones=st.sampled_from([UTC, CENTRAL, ZoneInfo("Asia/Kolkata")])))
def test_timer_status_dates_round_trip(moment: datetime) -> None:
    assert parse_net_datetime(format_net_datetime(moment), UTC) == moment


def test_timer_status_json_round_trip_and_refusals() -> None:
    status = ScheduleStatus(utc(2022, 1, 1, 10), utc(2022, 1, 1, 11), utc(2022, 1, 1, 10))
    assert status.dumps() == ('{"Last":"2022-01-01T10:00:00+00:00","Next":"2022-01-01T11:00:00'
                              '+00:00","LastUpdated":"2022-01-01T10:00:00+00:00"}')
    assert ScheduleStatus.loads(status.dumps(), UTC) == status
    assert ScheduleStatus.loads(status.dumps().lower().replace("t1", "T1"), UTC) == status
    for bad in ("[]", '{"Last": 1}', "not json"):
        with pytest.raises(ValueError):
            ScheduleStatus.loads(bad, UTC)


def test_timer_status_first_start_records_the_next_occurrence() -> None:
    now = utc(2022, 1, 1, 10, 15)
    check = check_past_due(now, HOURLY, UTC, None)
    assert not check.past_due
    assert check.to_store == ScheduleStatus(default_time(UTC, now), utc(2022, 1, 1, 11), now)
    # the listener itself starts with LastUpdated unset (TimerListener.StartAsync)
    assert check.status == ScheduleStatus(default_time(UTC, now), utc(2022, 1, 1, 11),
                                          default_time(UTC, now))


def test_timer_status_missed_occurrence_is_past_due() -> None:
    stored = ScheduleStatus(utc(2022, 1, 1, 8), utc(2022, 1, 1, 9), utc(2022, 1, 1, 8))
    check = check_past_due(utc(2022, 1, 1, 10, 15), HOURLY, UTC, stored)
    assert check.past_due
    assert check.status == stored
    assert check.to_store is None


def test_timer_status_on_time_is_not_past_due() -> None:
    stored = ScheduleStatus(utc(2022, 1, 1, 10), utc(2022, 1, 1, 11), utc(2022, 1, 1, 10))
    check = check_past_due(utc(2022, 1, 1, 10, 15), HOURLY, UTC, stored)
    assert (check.past_due, check.to_store) == (False, None)


def test_timer_status_changed_schedule_is_rebased_not_past_due() -> None:
    # stored for a schedule at :30; the schedule is now hourly at :00
    stored = ScheduleStatus(utc(2022, 1, 1, 7, 30), utc(2022, 1, 1, 8, 30), utc(2022, 1, 1, 7, 30))
    now = utc(2022, 1, 1, 10, 15)
    check = check_past_due(now, HOURLY, UTC, stored)
    assert not check.past_due
    assert check.to_store == ScheduleStatus(default_time(UTC, now), utc(2022, 1, 1, 11), now)


def test_timer_status_never_fired_uses_last_updated() -> None:
    default = default_time(UTC, utc(2022, 1, 1))
    stored = ScheduleStatus(default, utc(2022, 1, 1, 9), utc(2022, 1, 1, 8, 10))
    check = check_past_due(utc(2022, 1, 1, 10, 15), HOURLY, UTC, stored)
    assert check.past_due and check.to_store is None


def test_timer_status_after_invocation() -> None:
    status = ScheduleStatus(utc(2022, 1, 1, 9), utc(2022, 1, 1, 10), utc(2022, 1, 1, 9))
    early = utc(2022, 1, 1, 9, 59, 59, 900_000)
    assert status_after_invocation(HOURLY, UTC, early, status, scheduled=True) == \
        ScheduleStatus(utc(2022, 1, 1, 10), utc(2022, 1, 1, 11), utc(2022, 1, 1, 10))
    late = utc(2022, 1, 1, 10, 20)
    assert status_after_invocation(HOURLY, UTC, late, status, scheduled=False) == \
        ScheduleStatus(late, utc(2022, 1, 1, 11), late)


def test_timer_status_timer_info_is_what_the_library_decodes() -> None:
    status = ScheduleStatus(utc(2022, 1, 1, 9), utc(2022, 1, 1, 10), utc(2022, 1, 1, 9))
    text = timer_info_json(HOURLY, status, True)
    assert text == ('{"Schedule":{"AdjustForDST":true},"ScheduleStatus":{"Last":"2022-01-01T09:'
                    '00:00+00:00","Next":"2022-01-01T10:00:00+00:00","LastUpdated":"2022-01-01T'
                    '09:00:00+00:00"},"IsPastDue":true}')
    request = TimerRequestConverter.decode(Datum(text, "json"), trigger_metadata={})
    assert request.past_due is True
    assert request.schedule_status == json.loads(text)["ScheduleStatus"]
    unmonitored = TimerRequestConverter.decode(
        Datum(timer_info_json(parse_schedule("00:05:00"), None, False), "json"),
        trigger_metadata={})
    assert (unmonitored.past_due, unmonitored.schedule_status, unmonitored.schedule) == \
        (False, {}, {"AdjustForDST": False})


def test_timer_status_next_occurrences_text() -> None:
    pacific = ZoneInfo("America/Los_Angeles")
    found = [datetime(2022, 3, 28, 8, 45, tzinfo=pacific), datetime(2022, 3, 28, 8, 50,
                                                                    tzinfo=pacific)]
    assert format_next_occurrences(found, pacific) == (
        "03/28/2022 08:45:00-07:00 (03/28/2022 15:45:00Z)\n"
        "03/28/2022 08:50:00-07:00 (03/28/2022 15:50:00Z)")
    assert format_next_occurrences([utc(2022, 3, 28, 15, 45)], UTC) == "03/28/2022 15:45:00Z"
