"""Loggers of the local Functions host. The host never configures logging itself.

ERROR: crashes in user functions (with traceback) and our own bugs. WARNING: refused webhooks
(bad signature, unknown route), failed REST calls. INFO: start/stop, the function table,
``Executing``/``Executed`` lines. DEBUG: request and payload details, cut to a maximum length.
"""

from __future__ import annotations

import logging

__all__ = ["host_logger", "invoke_logger", "shorten"]

host_logger = logging.getLogger("emulator.functions")
invoke_logger = logging.getLogger("emulator.functions.invoke")

_MAX = 200


def shorten(text: str | bytes, limit: int = _MAX) -> str:
    """A payload cut to ``limit`` characters for DEBUG lines."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return text if len(text) <= limit else text[:limit] + "…"
