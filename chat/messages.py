"""Chat messages as clients receive them (target ``newMessage``).

The payload is camelCase — ``id``, ``sender``, ``connectionId``, ``text``, ``time`` — so a page
written for the original sample (it reads ``sender``, ``text``, ``connectionId``) renders ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = ["ChatMessage", "new_message"]


@dataclass(frozen=True, kw_only=True)
class ChatMessage:
    id: str
    sender: str
    connection_id: str
    text: str
    time: str
    """ISO 8601 in UTC with milliseconds, e.g. ``2026-11-28T22:04:18.123Z``."""

    def to_payload(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "sender": self.sender,
            "connectionId": self.connection_id,
            "text": self.text,
            "time": self.time,
        }


def format_time(now: float) -> str:
    moment = datetime.fromtimestamp(now, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def new_message(
    *, id: str, sender: str | None, connection_id: str, text: str, now: float
) -> ChatMessage:
    """A message stamped by the server; ``sender`` comes from the validated token only."""
    return ChatMessage(
        id=id,
        sender=sender or "anonymous",
        connection_id=connection_id,
        text=text,
        time=format_time(now),
    )
