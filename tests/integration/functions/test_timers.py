"""Timer triggers and manual runs, through real HTTP against the running host."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from emulator.functions.timers import TIMERS

YEARLY = "0 0 0 1 1 *"
KEYS = {"masterKey": "master-key", "functionKeys": {"default": "host-key"},
        "systemKeys": {}, "functions": {}}
MANUAL = "This function was programmatically called via the host APIs."


async def seen(host, function: str) -> list[dict]:
    status, body, _ = await host.request("GET", "/api/seen")
    assert status == 200
    return [entry for entry in json.loads(body) if entry["function"] == function]


async def test_host_timer_cron_every_second_runs_on_schedule(host_logs, make_host) -> None:
    """A six-field NCRONTAB schedule from a %Setting% runs the function every second."""
    host = await make_host("timers", {"TICK_SCHEDULE": "*/1 * * * * *"})
    fired = await host_logs.wait_for(r"Executing 'Functions\.tick' \(Reason='Timer fired at ",
                                     count=2)
    assert len(fired) == 2
    await host_logs.wait_for(r"Executed 'Functions\.tick' \(Succeeded", count=2)
    ticks = await seen(host, "tick")
    # more than once a minute: the schedule is not monitored, so no status is passed
    assert ticks[0] == {"function": "tick", "past_due": False, "schedule_status": {},
                        "schedule": {"AdjustForDST": True}}
    assert host_logs.matching("UseMonitor changed to false based on schedule frequency")


async def test_host_timer_timespan_schedule_runs(host_logs, make_host) -> None:
    """A TimeSpan schedule ('00:00:01') runs the function at that interval."""
    host = await make_host("timers", {"TICK_SCHEDULE": "00:00:01"})
    await host_logs.wait_for(r"Executed 'Functions\.tick' \(Succeeded")
    assert (await seen(host, "tick"))[0]["schedule"] == {"AdjustForDST": False}
    assert host_logs.matching(r"schedule \(Constant: 00:00:01\) will be:")


async def test_host_timer_run_on_startup_runs_at_once(host_logs, make_host) -> None:
    """run_on_startup runs the function as the host starts, not past due."""
    host = await make_host("timers", {"TICK_SCHEDULE": YEARLY})
    await host_logs.wait_for(r"Executed 'Functions\.warmup' \(Succeeded")
    assert host_logs.matching("Function 'warmup' is configured to run on startup. Executing now.")
    assert (await seen(host, "warmup"))[0]["past_due"] is False


async def test_host_timer_logs_next_occurrences_in_website_time_zone(host_logs,
                                                                     make_host) -> None:
    """WEBSITE_TIME_ZONE sets the zone; the log shows the next 5 runs in it and in UTC."""
    await make_host("timers", {"TICK_SCHEDULE": YEARLY,
                               "WEBSITE_TIME_ZONE": "America/Los_Angeles"})
    assert host_logs.matching(r"Timer schedules use the time zone America/Los_Angeles "
                              r"\(from WEBSITE_TIME_ZONE\)")
    [block] = host_logs.matching(r"The next 5 occurrences of the 'nightly' schedule "
                                 r"\(Cron: '0 30 2 \* \* \*'\) will be:")
    lines = block.splitlines()[1:]
    assert len(lines) == 5
    for line in lines:
        local, utc = line.split(" (")
        assert local.endswith(("02:30:00-07:00", "02:30:00-08:00"))
        assert utc.endswith(("09:30:00Z)", "10:30:00Z)"))


async def test_host_timer_unknown_time_zone_warns_and_uses_the_machine(host_logs,
                                                                       make_host) -> None:
    """A Windows zone name is reported and the machine's zone is used instead."""
    await make_host("timers", {"TICK_SCHEDULE": YEARLY,
                               "WEBSITE_TIME_ZONE": "Eastern Standard Time"})
    assert host_logs.matching(r"WARNING WEBSITE_TIME_ZONE='Eastern Standard Time' is not a time "
                              r"zone this machine knows")


async def test_host_timer_missed_run_is_past_due_after_restart(host_logs, make_host,
                                                               tmp_path) -> None:
    """A monitored timer whose run was missed while the host was down runs at once, past due."""
    settings = {"TICK_SCHEDULE": YEARLY, "WEBSITE_TIME_ZONE": "UTC"}
    first = await make_host("timers", settings)
    status_file = tmp_path / "data" / "timers" / "nightly" / "status"
    written = json.loads(status_file.read_text())
    now = datetime.now(UTC)
    upcoming = now.replace(hour=2, minute=30, second=0, microsecond=0)
    if upcoming <= now:
        upcoming += timedelta(days=1)
    assert written["Next"] == upcoming.isoformat()
    assert written["Last"] == "0001-01-01T00:00:00+00:00"
    await first.stop()

    # as if the host had been down for the last two nightly runs
    missed = {"Last": (upcoming - timedelta(days=3)).isoformat(),
              "Next": (upcoming - timedelta(days=2)).isoformat(),
              "LastUpdated": (upcoming - timedelta(days=3)).isoformat()}
    status_file.write_text(json.dumps(missed))
    second = await make_host("timers", settings)
    await host_logs.wait_for(r"Executed 'Functions\.nightly' \(Succeeded")
    assert host_logs.matching("Function 'nightly' is past due on startup. Executing now.")
    [run] = await seen(second, "nightly")
    assert run["past_due"] is True
    assert run["schedule_status"] == missed
    await second.stop()
    after = json.loads(status_file.read_text())
    assert after["Next"] == upcoming.isoformat()
    assert datetime.fromisoformat(after["Last"]) >= now


async def test_host_timer_manual_run_through_admin_api(host_logs, make_host,
                                                       tmp_path) -> None:
    """POST /admin/functions/{name} answers 202 and runs the timer with its stored status."""
    host = await make_host("timers", {"TICK_SCHEDULE": YEARLY})
    status, body, _ = await host.request("POST", "/admin/functions/NIGHTLY",
                                         json={"input": "from the test"})
    assert (status, body) == (202, b"")
    await host_logs.wait_for(rf"Executing 'Functions\.nightly' \(Reason='{MANUAL}'")
    await host_logs.wait_for(r"Executed 'Functions\.nightly' \(Succeeded")
    [run] = await seen(host, "nightly")
    stored = json.loads((tmp_path / "data" / "timers" / "nightly" / "status").read_text())
    assert run["past_due"] is False
    assert run["schedule_status"] == stored


@pytest.mark.parametrize(("path", "kwargs", "status"), [
    ("/admin/functions/nosuch", {"json": {"input": ""}}, 404),
    ("/admin/functions/tick", {"json": {"input": ""}}, 404),           # tick is in error
    ("/admin/functions/list_seen", {"json": {"input": ""}}, 400),      # an HTTP function
    ("/admin/functions/nightly", {"json": None, "data": b"", "headers": {
        "Content-Type": "application/json"}}, 400),
    ("/admin/functions/nightly", {"json": {"input": {"a": 1}}}, 400),
    ("/admin/functions/nightly", {"data": b"{}", "headers": {"Content-Type": "text/plain"}}, 415),
])
async def test_host_admin_api_refusals(make_host, path, kwargs, status) -> None:
    """The admin API refuses unknown functions, HTTP functions and bodies it cannot read."""
    host = await make_host("timers", {})
    assert (await host.request("POST", path, **kwargs))[0] == status


async def test_host_admin_api_needs_the_master_key_with_auth(host_logs, make_host,
                                                             tmp_path) -> None:
    """With --enable-auth a manual run needs the master key; a function key is not enough."""
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(KEYS))
    host = await make_host("timers", {"TICK_SCHEDULE": YEARLY}, enable_auth=True,
                           keys_file=keys)
    body = {"json": {"input": ""}}
    assert (await host.request("POST", "/admin/functions/nightly", **body))[0] == 401
    assert (await host.request("POST", "/admin/functions/nightly?code=host-key", **body))[0] \
        == 401
    assert (await host.request("POST", "/admin/functions/nightly", **body,
                               headers={"x-functions-key": "master-key"}))[0] == 202
    await host_logs.wait_for(r"Executed 'Functions\.nightly' \(Succeeded")


async def test_host_timer_with_unset_schedule_setting_is_in_error(host_logs, make_host) -> None:
    """A schedule naming an unset %Setting% puts that timer in error; the others still run."""
    await make_host("timers", {})
    assert host_logs.matching(r"WARNING The 'tick' function is in error: Error indexing method "
                              r"'Functions\.tick'\. '%TICK_SCHEDULE%' does not resolve to a value")
    await host_logs.wait_for(r"Executed 'Functions\.warmup' \(Succeeded")


async def test_host_timers_stop_with_the_host(host_logs, make_host) -> None:
    """Stopping the host stops every timer at once, leaving nothing running."""
    host = await make_host("timers", {"TICK_SCHEDULE": "*/1 * * * * *"})
    await host_logs.wait_for(r"Executed 'Functions\.tick' \(Succeeded")
    timers = host.app[TIMERS]
    assert timers.running
    await host.stop()
    assert not timers.running
    assert not host_logs.matching("still running")
