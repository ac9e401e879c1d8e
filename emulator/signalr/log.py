"""Loggers of the local SignalR Service. Only ``python -m`` entry points configure logging.

INFO: start/stop, connections opening and closing, each upstream and REST call (status, time).
WARNING: clients dropped for being slow, rejected tokens, protocol errors.
DEBUG: every frame, ``<`` in and ``>`` out, cut to ``MAX_DEBUG_BYTES``.
"""

from __future__ import annotations

import logging

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


_CONTROL = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F, *range(0x80, 0xA0))}
_CONTROL.update({0x2028: "\\u2028", 0x2029: "\\u2029"})


def printable(value: object, limit: int = MAX_DEBUG_BYTES) -> str:
    """A value that came from a client, safe to put in a log line: control characters (CR, LF,
    ESC…) escaped, so no one can forge a line or a terminal sequence; cut to ``limit``."""
    text = str(value)
    cut = text[:limit].translate(_CONTROL)
    return cut + ("…" if len(text) > limit else "")


def preview(data: bytes) -> str:
    """A frame for DEBUG lines, cut to a maximum length."""
    text = repr(data[:MAX_DEBUG_BYTES])
    return text + ("…" if len(data) > MAX_DEBUG_BYTES else "")


class OnceLog:
    """WARNING the first time a key is seen, INFO afterwards, so that hostile traffic (a flood
    of bad tokens, say) cannot flood the log at WARNING. One per service: a fresh service
    warns afresh."""

    __slots__ = ("_seen",)
    MAX_KEYS = 1000

    def __init__(self) -> None:
        self._seen: set[tuple[str, str]] = set()

    def warning(self, logger: logging.Logger, key: str, message: str, *args: object) -> None:
        marker = (logger.name, key)
        if marker in self._seen:
            logger.info(message, *args)
            return
        if len(self._seen) < self.MAX_KEYS:
            self._seen.add(marker)
        logger.warning(message, *args)
