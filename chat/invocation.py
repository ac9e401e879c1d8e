"""The SignalR trigger's InvocationContext, read from the JSON string the host hands over.

functions-python.md §4.2: PascalCase keys — ``Arguments`` (null for connection events), ``Error``,
``Category``, ``Event``, ``Hub``, ``ConnectionId``, ``UserId`` (null without a user), ``Headers``,
``Query``, ``Claims``. The caller's identity is ``UserId`` only: it comes from the access token the
service validated, never from the arguments a client sends.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidMessage

__all__ = ["Invocation", "parse_invocation"]


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
        """Whether the upstream call carried an ``Authorization`` header (issue 8 §1)."""
        return "authorization" in self.headers

    def expect(self, *names: str) -> tuple[Any, ...]:
        """The arguments, checked against the contract's parameter names (count only)."""
        if len(self.arguments) != len(names):
            signature = f"{self.event}({', '.join(names)})"
            raise InvalidMessage(
                f"{signature} takes {len(names)} argument{'s' if len(names) != 1 else ''}, "
                f"got {len(self.arguments)}."
            )
        return self.arguments


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
