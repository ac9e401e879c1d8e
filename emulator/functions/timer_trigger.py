"""The ``timerTrigger`` binding read at indexing time, pure.

The Python library writes ``schedule``, ``runOnStartup`` and ``useMonitor`` (``Azure/azure-
functions-python-library azure/functions/decorators/timer.py``); the host copies them onto
``TimerTriggerAttribute``, whose ``UseMonitor`` defaults to true (``Azure/azure-webjobs-sdk-
extensions src/WebJobs.Extensions/Extensions/Timers/TimerTriggerAttribute.cs``), and resolves
``%Setting%`` in the schedule (``Scheduling/TimerSchedule.cs``). A bad schedule puts the function
in error ("Error indexing method 'Functions.x'"), like any binding the extension cannot build.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import FunctionIndexingError, FunctionsHostError
from .expressions import resolve_settings
from .indexing import FunctionInfo
from .schedules import Schedule, ScheduleError, parse_schedule

__all__ = ["TimerTrigger", "read_timer_trigger"]


@dataclass(frozen=True)
class TimerTrigger:
    """A timer function as the listener needs it."""

    info: FunctionInfo
    expression: str
    """The schedule with ``%Setting%`` resolved."""
    schedule: Schedule
    run_on_startup: bool
    use_monitor: bool
    """As declared (default true); a schedule under a minute turns it off at start."""

    @property
    def name(self) -> str:
        return self.info.name


def _flag(info: FunctionInfo, key: str, default: bool) -> bool:
    """A bool property as Newtonsoft converts it: true/false or their strings."""
    binding = info.trigger
    value: Any = binding.get(key)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise FunctionIndexingError(
        info.name, f"Unable to configure binding '{binding.name}' of type '{binding.type}'. This "
                   f"may indicate invalid function.json properties. Could not convert {value!r} "
                   f"to a boolean for '{key}'.", f"pass {key}=True or False.")


def read_timer_trigger(info: FunctionInfo, settings: Mapping[str, str]) -> TimerTrigger:
    """The function's timer trigger; FunctionIndexingError when the extension would refuse it."""
    binding = info.trigger
    raw = binding.get("schedule")
    where = f"Error indexing method 'Functions.{info.name}'."
    if not isinstance(raw, str) or not raw.strip():
        raise FunctionIndexingError(info.name, f"{where} The timer trigger has no schedule.",
                                    "pass schedule='0 */5 * * * *' (NCRONTAB) or '00:05:00'.")
    try:
        expression = resolve_settings(raw, settings)
    except FunctionsHostError as exc:
        raise FunctionIndexingError(info.name, f"{where} {exc}",
                                    "define the app setting the schedule names.") from None
    try:
        schedule = parse_schedule(expression)
    except ScheduleError as exc:
        raise FunctionIndexingError(
            info.name, f"{where} {exc}",
            "use six NCRONTAB fields '{second} {minute} {hour} {day} {month} {day-of-week}' "
            "such as '0 */5 * * * *', or a TimeSpan such as '00:05:00'.") from None
    return TimerTrigger(info=info, expression=expression, schedule=schedule,
                        run_on_startup=_flag(info, "runOnStartup", False),
                        use_monitor=_flag(info, "useMonitor", True))
