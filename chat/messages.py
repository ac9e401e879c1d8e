"""Chat messages as clients receive them (target ``newMessage``, and ``history``).

The payload is camelCase — ``id``, ``sender``, ``connectionId``, ``text``, ``time`` — plus
``isPrivate`` (and ``recipient``) on private messages and ``group`` on group messages. The original
sample's page renders it: it reads ``Sender || sender``, ``Text || text``, ``ConnectionId ||
connectionId`` and ``IsPrivate || isPrivate`` (README "The hub contract" says what else differs).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = ["ChatMessage", "format_time", "keyed_message_id", "message_id", "new_message"]


@dataclass(frozen=True, kw_only=True)
class ChatMessage:
    id: str
    sender: str
    connection_id: str
    text: str
    time: str
    """ISO 8601 in UTC with milliseconds, e.g. ``2026-11-28T22:04:18.123Z``."""
    is_private: bool = False
    recipient: str | None = None
    """For private messages: the user (or connection) it was sent to."""
    group: str | None = None

    def to_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "id": self.id,
            "sender": self.sender,
            "connectionId": self.connection_id,
            "text": self.text,
            "time": self.time,
        }
        if self.is_private:
            payload["isPrivate"] = True
            if self.recipient is not None:
                payload["recipient"] = self.recipient
        if self.group is not None:
            payload["group"] = self.group
        return payload


def format_time(now: float) -> str:
    moment = datetime.fromtimestamp(now, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def message_id(now: float, unique: str) -> str:
    """An id that sorts by server time to the microsecond, then by ``unique`` (random hex).

    History is ordered by ``(time, id)`` and ``time`` has milliseconds, so two messages within
    one millisecond still keep the order they were sent in.
    """
    return f"{int(now * 1_000_000):014x}-{unique}"


def keyed_message_id(owner: str, client_message_id: str) -> str:
    """The id of a message whose sender chose ``client_message_id``: the same on every retry.

    ``owner`` is the sender's user (or, without one, connection), so two senders' ids never
    collide. Pages and the room's history keep one copy per id, so even a retry that reaches
    another app instance, which has not seen the first attempt, shows once.
    """
    digest = hashlib.sha256(f"{owner}\n{client_message_id}".encode()).hexdigest()
    return f"k-{digest[:32]}"


def new_message(
    *,
    id: str,
    sender: str | None,
    connection_id: str,
    text: str,
    now: float,
    is_private: bool = False,
    recipient: str | None = None,
    group: str | None = None,
) -> ChatMessage:
    """A message stamped by the server; ``sender`` comes from the validated token only."""
    return ChatMessage(
        id=id,
        sender=sender or "anonymous",
        connection_id=connection_id,
        text=text,
        time=format_time(now),
        is_private=is_private,
        recipient=recipient,
        group=group,
    )
