"""The SignalR trigger's InvocationContext, read from the JSON string the host hands over.

The context has PascalCase keys: ``Arguments`` (null for connection events), ``Error``,
``Category``, ``Event``, ``Hub``, ``ConnectionId``, ``UserId`` (null without a user), ``Headers``,
``Query``, ``Claims`` (docs/chat-app.md, "Azure Functions"). The caller's identity is
``UserId`` only: it comes from the access token the service validated, never from the arguments a
client sends.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidMessage

__all__ = ["Invocation", "parse_invocation", "user_owner"]


def user_owner(user: str) -> str:
    """The owner of a user's presence record (see :attr:`Invocation.owner`)."""
    return f"u:{user}"


@dataclass(frozen=True, kw_only=True)
class Invocation:
    connection_id: str
    user_id: str | None
    event: str = ""
    arguments: tuple[Any, ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    """Upstream request headers, names lower-cased."""
    error: str | None = None

    @property
    def authenticated(self) -> bool:
        """Whether the upstream call carried an ``Authorization`` header."""
        return "authorization" in self.headers

    @property
    def owner(self) -> str:
        """Whose presence record this connection belongs to: its user, else the connection."""
        return user_owner(self.user_id) if self.user_id is not None else f"c:{self.connection_id}"

    def expect(self, *names: str) -> tuple[Any, ...]:
        """The arguments by the contract's parameter names; a trailing ``?`` marks an optional
        one, returned as None when the client left it out."""
        required = [n for n in names if not n.endswith("?")]
        if not len(required) <= len(self.arguments) <= len(names):
            signature = f"{self.event}({', '.join(names)})"
            count = (f"{len(required)}" if len(required) == len(names)
                     else f"{len(required)} or {len(names)}")
            raise InvalidMessage(
                f"{signature} takes {count} argument{'' if count == '1' else 's'}, "
                f"got {len(self.arguments)}."
            )
        return self.arguments + (None,) * (len(names) - len(self.arguments))


def parse_invocation(text: str | bytes) -> Invocation:
    """Read the fields the app uses; a malformed context is a bug upstream, so it raises."""
    context = json.loads(text)
    if not isinstance(context, dict) or not isinstance(context.get("ConnectionId"), str):
        raise ValueError("not an InvocationContext: ConnectionId is missing")
    arguments = context.get("Arguments") or []
    headers = context.get("Headers") or {}
    user = context.get("UserId")
    return Invocation(
        connection_id=context["ConnectionId"],
        user_id=user if isinstance(user, str) and user else None,
        event=str(context.get("Event") or ""),
        arguments=tuple(arguments) if isinstance(arguments, list) else (),
        headers={str(k).lower(): str(v) for k, v in headers.items()}
        if isinstance(headers, dict)
        else {},
        error=context.get("Error") or None,
    )
