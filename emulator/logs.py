"""Logging helpers both servers share: client values made safe to log, and warnings that a flood
cannot repeat. The loggers themselves live in each package's ``log.py``; only the command-line
entry points configure logging.
"""

from __future__ import annotations

import contextvars
import logging
import traceback

__all__ = ["FunctionLogNames", "OnceLog", "configure_logging", "current_function",
           "printable", "safe_traceback"]

MAX_LOGGED = 200
_CONTROL = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F, *range(0x80, 0xA0))}
_CONTROL.update({0x2028: "\\u2028", 0x2029: "\\u2029"})


def printable(value: object, limit: int = MAX_LOGGED) -> str:
    """A value that came from a client, safe to put in a log line: control characters (CR, LF,
    ESC…) escaped, so no one can forge a line or a terminal sequence; cut to ``limit``."""
    text = str(value)
    cut = text[:limit].translate(_CONTROL)
    return cut + ("…" if len(text) > limit else "")


def safe_traceback(error: BaseException, limit: int = 1000) -> str:
    """A traceback as ``logging`` would print it, whose exception lines (the part a client can
    fill: ``ValueError(user_input)``) are escaped like :func:`printable`; frames are the code's
    own file names and lines. Chained causes come first, as Python prints them."""
    chain: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen and len(chain) < 10:
        chain.append(current)
        seen.add(id(current))
        current = current.__cause__ or (None if current.__suppress_context__
                                        else current.__context__)
    parts: list[str] = []
    for position, item in enumerate(reversed(chain)):
        if position:
            parts.append("\nThe above exception was the direct cause of the following "
                         "exception:\n\n" if item.__cause__ is not None else
                         "\nDuring handling of the above exception, another exception "
                         "occurred:\n\n")
        if item.__traceback__ is not None:
            parts.append("Traceback (most recent call last):\n")
            parts.extend(traceback.format_list(traceback.extract_tb(item.__traceback__)))
        text = "".join(traceback.format_exception_only(type(item), item)).rstrip("\n")
        parts.append(printable(text, limit) + "\n")
    return "".join(parts).rstrip("\n")




class OnceLog:
    """WARNING the first time a key is seen, INFO afterwards, so that hostile traffic (a flood
    of bad tokens, say) cannot flood the log at WARNING. One per server: a fresh one warns
    afresh."""

    __slots__ = ("_seen",)
    MAX_KEYS = 1000

    def __init__(self) -> None:
        self._seen: set[tuple[str, str]] = set()

    def seen(self, logger: logging.Logger, key: str) -> bool:
        return (logger.name, key) in self._seen

    def mark(self, logger: logging.Logger, key: str) -> None:
        if len(self._seen) < self.MAX_KEYS:
            self._seen.add((logger.name, key))

    def warning(self, logger: logging.Logger, key: str, message: str, *args: object,
                later: int = logging.INFO) -> None:
        """At WARNING the first time, then at ``later`` (DEBUG for what comes in floods)."""
        if self.seen(logger, key):
            logger.log(later, message, *args)
            return
        self.mark(logger, key)
        logger.warning(message, *args)

    def error(self, logger: logging.Logger, key: str, message: str, *args: object) -> None:
        """ERROR the first time, INFO afterwards: a failure that repeats (a client can make it
        repeat) is said loudly once."""
        if self.seen(logger, key):
            logger.info(message, *args)
            return
        self.mark(logger, key)
        logger.error(message, *args)

    def exception(self, logger: logging.Logger, key: str, error: BaseException, message: str,
                  *args: object) -> None:
        """ERROR with the traceback (:func:`safe_traceback`) the first time; afterwards one INFO
        line ending in the exception's type and message."""
        if self.seen(logger, key):
            logger.info(message + ": %s (traceback logged once before)", *args,
                        printable(f"{type(error).__name__}: {error}", 500))
            return
        self.mark(logger, key)
        logger.error(message + "\n%s", *args, safe_traceback(error))


current_function: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "current_function", default=None)
"""The function being invoked in this context (the host sets it around each invocation)."""


class FunctionLogNames(logging.Filter):
    """What an app logs through the root logger during an invocation is shown under the
    function's name, as Core Tools shows it (``Function.<name>.User``), not as ``root``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "root":
            function = current_function.get()
            if function is not None:
                record.name = f"Function.{function}.User"
        return True


def configure_logging(level: str) -> None:
    """The command-line entry points' one logging set-up: time, level, logger, message."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s",
                                           datefmt="%H:%M:%S"))
    handler.addFilter(FunctionLogNames())
    root = logging.getLogger()
    root.setLevel(level.upper())
    root.addHandler(handler)
