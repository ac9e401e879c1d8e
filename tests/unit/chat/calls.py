"""Invocations as the app sees them once parsed, for the pure decision tests."""

from __future__ import annotations

from typing import Any

from chat import Invocation, Presence, Stamp

__all__ = ["STAMP", "call", "shard"]

STAMP = Stamp(id="m-1", now=1_700_000_000.0)


def call(event: str, *arguments: Any, user: str | None = "ada", cid: str = "c-ada",
         headers: dict[str, str] | None = None) -> Invocation:
    return Invocation(connection_id=cid, user_id=user, event=event, arguments=arguments,
                      headers=headers or {})


def shard(user: str | None = "ada", *connections: str) -> Presence:
    """A shard with ``connections`` opened in order."""
    state = Presence()
    for cid in connections:
        state = state.connect(cid, user)
    return state
