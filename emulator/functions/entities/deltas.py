"""What changed between two entity states, as a small JSON delta, and how to replay it. Pure.

An entity's state is one JSON text, and the SDK hands back the whole of it after every batch:
a chat room's 100-message history is a new 15 KB text for every message. The store keeps a
snapshot and, after it, the deltas of the saves that changed little (docs/durable.md,
"Entities"), so a save writes what changed instead of the whole state.

A delta is a JSON object, key by key of a top-level object state:

- ``{"k": {"drop": d, "add": [...]}}``: the list at ``k`` lost its first ``d`` items and got
  ``add`` at its end (a history that slides, a log that grows);
- ``{"k": {"set": value}}``: ``k`` now holds ``value`` (new or changed);
- ``{"k": {"unset": true}}``: ``k`` is gone.

States that are not objects, and changes as large as the state, are saved whole
(:func:`diff_state` returns None). :func:`replay_state` then :func:`encode_state` give back the
text the SDK wrote: it writes states with ``json.dumps`` defaults, as :func:`encode_state` does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

__all__ = ["decode_state", "diff_state", "encode_state", "replay_state"]


def decode_state(text: str | None) -> Any:
    """The state's value; None when there is no text or it is not JSON."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def encode_state(value: Any) -> str:
    """The state text, as the SDK writes it (``json.dumps`` with its defaults)."""
    return json.dumps(value)


def _list_change(old: list[Any], new: list[Any]) -> dict[str, Any] | None:
    """``new`` as ``old`` without its first items plus new ones at the end, if it is that."""
    if not new:
        return {"drop": len(old), "add": []}
    try:
        dropped = old.index(new[0])
    except ValueError:
        return None
    kept = len(old) - dropped
    if kept <= len(new) and new[:kept] == old[dropped:]:
        return {"drop": dropped, "add": new[kept:]}
    return None


def diff_state(old: Any, new: Any, *, old_size: int) -> str | None:
    """The delta text from ``old`` to ``new``; None when the new state is better saved whole
    (not both objects, or a delta that is not much smaller than ``old_size`` characters)."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return None
    delta: dict[str, Any] = {}
    for key, value in new.items():
        if key in old and old[key] == value:
            continue
        before = old.get(key)
        change = (_list_change(before, value) if key in old and isinstance(before, list)
                  and isinstance(value, list) else None)
        delta[key] = change if change is not None else {"set": value}
    for key in old:
        if key not in new:
            delta[key] = {"unset": True}
    text = json.dumps(delta, separators=(",", ":"))
    return text if len(text) * 2 < old_size else None


def replay_state(snapshot: Any, deltas: Iterable[str]) -> Any:
    """The state after ``deltas`` (texts made by :func:`diff_state`), applied in order to
    ``snapshot``. A key keeps its place; a new key goes last, as in the SDK's own dict."""
    state = snapshot
    for text in deltas:
        delta = json.loads(text)
        if not isinstance(state, dict) or not isinstance(delta, dict):
            raise ValueError("an entity delta applies only to an object state")
        for key, change in delta.items():
            if "unset" in change:
                state.pop(key, None)
            elif "set" in change:
                state[key] = change["set"]
            else:
                items = state.get(key)
                if not isinstance(items, list):
                    raise ValueError(f"an entity delta changes a list at {key!r}, found none")
                state[key] = items[int(change["drop"]):] + list(change["add"])
    return state
