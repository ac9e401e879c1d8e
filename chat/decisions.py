"""What a handler decided, as data ``function_app.py`` carries out.

A :class:`Decision` lists entity signals to send, at most one change to confirm (read back until
it shows, bounded, or the caller is told to retry), the output items for the service, and the
value the caller's ``invoke()`` resolves to. Pure functions in :mod:`chat.sending`,
:mod:`chat.membership`, :mod:`chat.connections` and :mod:`chat.reconcile` make them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .entities import Signal
from .outputs import Item

__all__ = ["Confirm", "Decision", "Stamp"]


@dataclass(frozen=True, kw_only=True)
class Stamp:
    """A new message's random id and server time, made by the shell."""

    id: str
    now: float


@dataclass(frozen=True, kw_only=True)
class Confirm:
    """Read ``entity@key`` back until ``applied(state)`` holds; ``what`` names the change."""

    entity: str
    key: str
    applied: Callable[[Any], bool]
    what: str


@dataclass(frozen=True, kw_only=True)
class Decision:
    items: tuple[Item, ...] = ()
    signals: tuple[Signal, ...] = ()
    confirm: Confirm | None = None
    result: Any = None
    client_message_id: str | None = None
    """For sends: the id the client chose, so a retry is recognised."""
