"""Loggers of the local SignalR Service. Only ``python -m`` entry points configure logging.

INFO: start/stop, connections opening and closing, each upstream and REST call (status, time).
WARNING: clients dropped for being slow, rejected tokens, protocol errors.
DEBUG: every frame, ``<`` in and ``>`` out, cut to ``MAX_DEBUG_BYTES``.
"""

from __future__ import annotations

import logging

from ..logs import OnceLog, printable

__all__ = [
    "MAX_DEBUG_BYTES",
    "OnceLog",
    "log",
    "preview",
    "printable",
    "rest_log",
    "transport_log",
    "upstream_log",
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
