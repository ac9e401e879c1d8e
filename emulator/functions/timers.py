"""Timer triggers: one asyncio task per timer function, started and stopped with the app.

The shell of ``TimerListener`` (``Azure/azure-webjobs-sdk-extensions src/WebJobs.Extensions/
Extensions/Timers/Listener/TimerListener.cs``) around the pure :mod:`.schedules` and
:mod:`.timer_status`: at start it logs the next five occurrences, reads the stored schedule
status when the schedule is monitored and runs a past-due occurrence at once (else the
``run_on_startup`` run), then sleeps until each occurrence, one invocation at a time per timer;
a failing function never stops its schedule. Monitored statuses are files
``<data dir>/timers/<function>/status`` (on Azure, blobs ``timers/<host id>/<timer>/status`` in
``AzureWebJobsStorage``). ``run_now`` is the admin API's manual run. See
docs/functions-host-indexing-and-timers.md, "Timer triggers".
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import typing
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from aiohttp import web
from azure.functions.meta import Datum
from azure.functions.timer import TimerRequestConverter
from yarl import URL

from ..errors import FunctionsHostError
from ..logs import printable, safe_traceback
from .drain import DRAIN_GRACE
from .invoke import InvocationResult
from .log import host_logger
from .runtime import REASON, HostRuntime
from .schedules import ScheduleError, monitor_by_default, next_occurrences
from .time_zones import host_time_zone
from .timer_status import (
    ScheduleStatus,
    check_past_due,
    format_next_occurrences,
    initial_status,
    status_after_invocation,
    timer_info_json,
)
from .timer_trigger import TimerTrigger

__all__ = ["TIMERS", "StatusStore", "TimerService", "setup_timers"]

MAX_SLEEP = 30.0
"""Longest single wait, so a changed wall clock (suspend, NTP) is noticed within this."""

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class StatusStore:
    """Schedule statuses as files, written whole (best effort, like the storage monitor)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, name: str) -> Path:
        return self.folder / name / "status"

    def read(self, name: str, tz: Any) -> ScheduleStatus | None:
        path = self.path(name)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            host_logger.warning("timer '%s': cannot read its schedule status %s (%s); it starts "
                                "afresh", name, path, exc.strerror)
            return None
        try:
            return ScheduleStatus.loads(text, tz)
        except ValueError as exc:
            host_logger.warning("timer '%s': ignoring the unreadable schedule status %s (%s)",
                                name, path, exc)
            return None

    def write(self, name: str, status: ScheduleStatus) -> None:
        path = self.path(name)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(".tmp")
            temporary.write_text(status.dumps(), encoding="utf-8")
            os.replace(temporary, path)
        except OSError as exc:
            host_logger.error("Function '%s' failed to update the timer trigger status in %s "
                              "(%s)", name, path, exc.strerror)


@dataclass
class _Timer:
    trigger: TimerTrigger
    monitor: bool
    status: ScheduleStatus
    text_input: bool
    """The trigger parameter is annotated str/bytes: it gets the JSON text (generic binding)."""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def _wants_text(trigger: TimerTrigger) -> bool:
    try:
        hints = typing.get_type_hints(trigger.info.user_function)
    except Exception:
        hints = dict(getattr(trigger.info.user_function, "__annotations__", {}))
    return hints.get(trigger.info.trigger.name) in (str, bytes)


def _fired_reason(now: datetime, tz: Any) -> str:
    """TimerTriggerParameterDescriptor: ``Timer fired at <DateTime.Now:o>``."""
    local = now.astimezone(tz)
    offset = local.strftime("%z")
    return (f"Timer fired at {local:%Y-%m-%dT%H:%M:%S}.{local.microsecond:06d}0"
            f"{offset[:3]}:{offset[3:]}")


class TimerService:
    """The timers of one host; :meth:`start` and :meth:`stop` follow the app's lifetime."""

    def __init__(self, runtime: HostRuntime, clock: Clock = _utc_now) -> None:
        self.runtime = runtime
        self.clock = clock
        zone = host_time_zone(runtime.config.settings)
        self.tz = zone.zone
        self.zone_description = zone.description
        self.zone_problem = zone.problem
        self.store = StatusStore(runtime.config.resolved_data_dir / "timers")
        self.timers: dict[str, _Timer] = {}
        self._stop = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    # --- lifetime ------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """A schedule or a manual run is still active."""
        return bool(self._tasks)

    async def start(self) -> None:
        if self.zone_problem:
            host_logger.warning("%s", self.zone_problem)
        host_logger.info("Timer schedules use the time zone %s", self.zone_description)
        for trigger in self.runtime.timers:
            try:
                self._start_one(trigger)
            except ScheduleError as exc:
                host_logger.error("The timer '%s' cannot start: %s", trigger.name, exc)

    def _start_one(self, trigger: TimerTrigger) -> None:
        now = self.clock()
        monitor = monitor_by_default(trigger.schedule, trigger.use_monitor, now, self.tz)
        host_logger.debug("The '%s' timer is using the schedule '%s' and the local time zone: "
                          "'%s'", trigger.name, trigger.schedule, self.zone_description)
        if trigger.use_monitor and not monitor:
            host_logger.debug("UseMonitor changed to false based on schedule frequency.")
        past_due = False
        if monitor:
            check = check_past_due(now, trigger.schedule, self.tz,
                                   self.store.read(trigger.name, self.tz))
            if check.to_store is not None:
                self.store.write(trigger.name, check.to_store)
            status, past_due = check.status, check.past_due
        else:
            status = initial_status(trigger.schedule, now, self.tz)
        timer = _Timer(trigger, monitor, status, _wants_text(trigger))
        self.timers[trigger.name.lower()] = timer
        occurrences = next_occurrences(trigger.schedule, now, self.tz, 5)
        host_logger.info("The next 5 occurrences of the '%s' schedule (%s) will be:\n%s",
                         trigger.name, trigger.schedule,
                         format_next_occurrences(occurrences, self.tz))
        self._spawn(self._run(timer, past_due))

    def _spawn(self, work: typing.Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def halt(self) -> None:
        """Start no more runs: each schedule ends after the run in progress, if any."""
        self._stop.set()

    async def stop(self, grace: float = DRAIN_GRACE) -> None:
        """Stop every schedule; wait up to ``grace`` seconds for running invocations."""
        self.halt()
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            host_logger.warning("stopped %d timer invocation(s) still running", len(pending))
            await asyncio.gather(*pending, return_exceptions=True)

    # --- running -------------------------------------------------------------------------

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)

    async def _run(self, timer: _Timer, past_due: bool) -> None:
        name = timer.trigger.name
        if past_due:
            host_logger.info("Function '%s' is past due on startup. Executing now.", name)
            await self._fire(timer, past_due=True, scheduled=False)
        elif timer.trigger.run_on_startup:
            host_logger.info("Function '%s' is configured to run on startup. Executing now.",
                             name)
            await self._fire(timer, past_due=False, scheduled=False)
        while not self._stop.is_set():
            wait = (timer.status.next - self.clock()).total_seconds()
            if wait > 0:
                await self._sleep(min(wait, MAX_SLEEP))
                continue
            await self._fire(timer, past_due=False, scheduled=True)

    async def _fire(self, timer: _Timer, *, past_due: bool, scheduled: bool) -> None:
        """One listener invocation, then the next status (stored when monitored)."""
        async with timer.lock:
            if self._stop.is_set():
                return
            trigger, started = timer.trigger, self.clock()
            status = timer.status if timer.monitor else None
            try:
                await self._invoke(timer, timer_info_json(trigger.schedule, status, past_due),
                                   _fired_reason(started, self.tz))
            except FunctionsHostError as exc:  # the failure itself is logged as Executed
                host_logger.info("Error occurred during scheduled invocation for '%s': %s",
                                 trigger.name, printable(exc, 500))
            except Exception as exc:  # background errors never stop the schedule
                host_logger.error("Error occurred during scheduled invocation for '%s'.\n%s",
                                  trigger.name, safe_traceback(exc))
            try:
                timer.status = status_after_invocation(trigger.schedule, self.tz, started,
                                                       timer.status, scheduled=scheduled)
            except ScheduleError as exc:
                host_logger.error("The timer '%s' stops: %s", trigger.name, exc)
                timer.status = ScheduleStatus(timer.status.last,
                                              datetime.max.replace(tzinfo=UTC),
                                              timer.status.last_updated)
                return
            if timer.monitor:
                self.store.write(trigger.name, timer.status)

    def run_now(self, name: str, text: str | None) -> bool:
        """Run a timer function once now, in the background (the admin API's manual run).

        The function sees the stored status when monitored, never past due; the schedule
        status is not changed (TimerTriggerBinding.BindAsync). False: no such timer.
        """
        timer = self.timers.get(name.lower())
        if timer is None:
            return False
        status = self.store.read(timer.trigger.name, self.tz) if timer.monitor else None
        body = timer_info_json(timer.trigger.schedule, status, False)
        self._spawn(self._invoke(timer, body, REASON))
        return True

    async def _invoke(self, timer: _Timer, body: str, reason: str) -> None:
        # Counted with the host's trigger invocations from its start: stopping waits for it
        # (.drain), and halting the schedules leaves the wait to that count.
        with self.runtime.in_flight.running():
            runtime, info = self.runtime, timer.trigger.info
            value: Any = body if timer.text_input else \
                TimerRequestConverter.decode(Datum(body, "json"), trigger_metadata={})
            invocation_id = str(uuid.uuid4())
            try:
                inputs = await runtime.resolve_inputs(info, {}, value, self._durable_inputs(timer))
            except FunctionsHostError as exc:
                runtime.invoker.log_failure(info, invocation_id, f"binding failed: {exc}")
                return

            async def finish(result: InvocationResult) -> None:
                await runtime.send_outputs(info, result.outputs, {})

            with contextlib.suppress(FunctionsHostError):  # logged as Failed by the invoker
                await runtime.invoker.invoke(info, inputs, reason=reason,
                                             invocation_id=invocation_id, finish=finish)

    def _durable_inputs(self, timer: _Timer) -> dict[str, Any]:
        """Durable client bindings need the host's own URL; a timer has no request to take it
        from, so it comes from the configured public URL."""
        durable = self.runtime.durable
        url = self.runtime.config.public_url
        if durable is None or not timer.trigger.info.by_kind("durableclient") or not url:
            return {}
        stand_in = SimpleNamespace(transport=None, url=URL(url))
        return dict(durable.inputs_for(timer.trigger.info, stand_in))


TIMERS = web.AppKey("timers", TimerService)


def setup_timers(app: web.Application, runtime: HostRuntime) -> None:
    """Run the app's timers while ``app`` runs (a cleanup context). The host's shutdown hook
    halts them first and waits for their runs with the other trigger invocations, while it
    still answers their calls (.drain); stopping here then only joins the ended schedules."""
    service = TimerService(runtime)
    app[TIMERS] = service

    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        await service.start()
        yield
        await service.stop()

    app.cleanup_ctx.append(lifetime)

