"""What the host says at start after the function table: functions in error, settings problems
and portability notes (docs/functions-host-indexing-and-timers.md, "Per-function errors" and
"Start-time checks")."""

from __future__ import annotations

from .log import host_logger
from .runtime import HostRuntime
from .startup_checks import binding_name_notes, settings_warnings

__all__ = ["log_startup_report"]


def log_startup_report(runtime: HostRuntime) -> None:
    """WARNING per function in error and per settings problem, INFO per portability note."""
    for error in runtime.function_errors:
        host_logger.warning("%s", error.message)
    for warning in settings_warnings(runtime.functions, runtime.config.settings):
        host_logger.warning("%s", warning)
    for note in binding_name_notes(runtime.functions):
        host_logger.info("%s", note)
