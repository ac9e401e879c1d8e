"""Negotiate entries and live sessions, by connection token.

``negotiate`` hands out an id (and, with version 1, a secret token); the connect that follows
within ``negotiate_ttl`` claims it. A session stays registered by its token until it finishes,
so later requests (long-polling polls and sends, a stateful reattach) find it.
(docs/client-protocol.md, "Negotiate".)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..errors import Conflict, Forbidden, NotFound
from .session import Session

__all__ = ["PendingConnection", "Registry"]


@dataclass(frozen=True, kw_only=True, slots=True)
class PendingConnection:
    """A negotiate answer waiting for its connect."""

    connection_id: str
    connection_token: str
    hub: str
    created: float
    stateful: bool = False
    user_id: str | None = None
    """Whose token negotiated it: only that user may connect with it."""


class Registry:
    def __init__(self, *, negotiate_ttl: float, new_id: Callable[[], str]) -> None:
        self._negotiate_ttl = negotiate_ttl
        self._new_id = new_id
        self._pending: dict[str, PendingConnection] = {}
        self._sessions: dict[str, Session] = {}

    def negotiate(self, hub: str, *, version: int, stateful: bool, now: float,
                  user_id: str | None = None) -> PendingConnection:
        self._expire(now)
        connection_id = self._new_id()
        token = self._new_id() + self._new_id() if version >= 1 else connection_id
        entry = PendingConnection(connection_id=connection_id, connection_token=token, hub=hub,
                                  created=now, stateful=stateful, user_id=user_id)
        self._pending[token] = entry
        return entry

    def claim(self, token: str, hub: str, now: float, *, user_id: str | None = None
              ) -> PendingConnection:
        """The negotiate entry for ``id=token``: 409 if in use, 404 if unknown or expired, 403
        for another user's token (the entry stays for its owner)."""
        if token in self._sessions:
            raise Conflict("a transport is already attached to this connection")
        entry = self._pending.get(token)
        if entry is None or now - entry.created > self._negotiate_ttl:
            self._pending.pop(token, None)
            raise NotFound("no connection with this id (unknown, expired or closed)")
        if entry.hub.lower() != hub.lower():
            raise NotFound("no connection with this id in this hub")
        if entry.user_id != user_id:
            raise Forbidden("this connection belongs to another user")
        del self._pending[token]
        return entry

    def new_id(self) -> str:
        return self._new_id()

    def add(self, session: Session) -> None:
        self._sessions[session.connection_token] = session

    def get(self, token: str | None) -> Session | None:
        return self._sessions.get(token) if token is not None else None

    def discard(self, session: Session) -> None:
        if self._sessions.get(session.connection_token) is session:
            del self._sessions[session.connection_token]

    def sessions(self) -> list[Session]:
        return list(self._sessions.values())

    def __len__(self) -> int:
        return len(self._sessions)

    def clear_pending(self) -> None:
        self._pending.clear()

    def _expire(self, now: float) -> None:
        ttl = self._negotiate_ttl
        for token in [t for t, e in self._pending.items() if now - e.created > ttl]:
            del self._pending[token]
