"""Loggers of the local SignalR Service. Only ``python -m`` entry points configure logging.

INFO: start/stop, connections opening and closing, each upstream and REST call (status, time).
WARNING: clients dropped for being slow, rejected tokens, protocol errors.
DEBUG: every frame, ``<`` in and ``>`` out, cut to ``MAX_DEBUG_BYTES``.
"""

from __future__ import annotations

import logging

__all__ = [
    "MAX_DEBUG_BYTES",
    "log",
    "preview",
    "rest_log",
    "transport_log",
    "upstream_log",
    "warn_once",
]

log = logging.getLogger("emulator.signalr")
transport_log = logging.getLogger("emulator.signalr.transport")
rest_log = logging.getLogger("emulator.signalr.rest")
upstream_log = logging.getLogger("emulator.signalr.upstream")

MAX_DEBUG_BYTES = 200


def preview(data: bytes) -> str:
    """A frame for DEBUG lines, cut to a maximum length."""
    text = repr(data[:MAX_DEBUG_BYTES])
    return text + ("…" if len(data) > MAX_DEBUG_BYTES else "")


_warned: set[tuple[str, str]] = set()
_MAX_WARNED = 1000


def warn_once(logger: logging.Logger, key: str, message: str, *args: object) -> None:
    """WARNING the first time ``key`` is seen on ``logger``, INFO afterwards, so that hostile
    traffic (say, a flood of bad tokens) cannot flood the log at WARNING."""
    marker = (logger.name, key)
    if marker in _warned:
        logger.info(message, *args)
        return
    if len(_warned) < _MAX_WARNED:
        _warned.add(marker)
    logger.warning(message, *args)
