"""Per-user send limits and recent client message ids, kept in the app instance's memory.

Both are checked on every send and must cost no entity round trip, so they live in the worker
process: ``function_app.py`` holds one :class:`SendLimits` and passes ``now``. On Azure each app
instance counts on its own, so with N instances a user can send up to N times the rate, and a
retry that reaches another instance is not recognised here; its message id is the same
(:func:`chat.messages.keyed_message_id`), so pages and the history still keep one copy.

Rate: a token bucket per user (per connection without a user) holding ``CHAT_SEND_BURST``
tokens, refilled at ``CHAT_SEND_RATE`` per minute. A recognised retry is answered with the
first attempt's id, and the message goes again to the retrying connection only: the connection
that lost the answer may have lost the message too (pages keep one copy per id). Memory is
bounded: at most :data:`MAX_TRACKED` senders and :data:`MAX_RECENT` recent messages, the least
recently used dropped first; recent messages are forgotten after :data:`RETRY_WINDOW` seconds.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import TooFast
from .settings import Settings

__all__ = ["MAX_RECENT", "MAX_TRACKED", "RETRY_WINDOW", "Bucket", "SendLimits", "Sent"]

MAX_TRACKED = 10_000
MAX_RECENT = 1_000
RETRY_WINDOW = 600.0


@dataclass(frozen=True)
class Sent:
    """A message sent with a client message id: its id and payload, and when."""

    message_id: str
    payload: Mapping[str, Any]
    at: float


@dataclass(frozen=True)
class Bucket:
    tokens: float
    updated: float

    def refilled(self, now: float, *, rate_per_minute: int, burst: int) -> Bucket:
        elapsed = max(0.0, now - self.updated)
        return Bucket(min(float(burst), self.tokens + elapsed * rate_per_minute / 60.0), now)


class SendLimits:
    """The memory behind the rate limit and retry recognition (not thread-safe: one event loop)."""

    def __init__(self, max_tracked: int = MAX_TRACKED, max_recent: int = MAX_RECENT) -> None:
        self._max, self._max_recent = max_tracked, max_recent
        self._buckets: OrderedDict[str, Bucket] = OrderedDict()
        self._recent: OrderedDict[tuple[str, str], Sent] = OrderedDict()

    def admit(self, owner: str, client_message_id: str | None, now: float,
              settings: Settings) -> Sent | None:
        """Before a send: the earlier message when this is a retry (not to be sent to everyone
        again), else None after spending one send of the allowance (or :class:`TooFast`)."""
        if client_message_id is not None:
            earlier = self.sent_before(owner, client_message_id, now)
            if earlier is not None:
                return earlier
        self.take(owner, now, rate_per_minute=settings.send_rate, burst=settings.send_burst)
        return None

    def take(self, owner: str, now: float, *, rate_per_minute: int, burst: int) -> None:
        """Spend one send of ``owner``'s allowance, or raise :class:`TooFast` with the wait."""
        bucket = self._buckets.pop(owner, None) or Bucket(float(burst), now)
        bucket = bucket.refilled(now, rate_per_minute=rate_per_minute, burst=burst)
        if bucket.tokens < 1.0:
            self._remember_bucket(owner, bucket)
            wait = (1.0 - bucket.tokens) * 60.0 / rate_per_minute
            seconds = max(1, math.ceil(wait))
            raise TooFast(f"You are sending messages too fast; wait {seconds} "
                          f"second{'s' if seconds != 1 else ''} and try again.", retry_after=wait)
        self._remember_bucket(owner, Bucket(bucket.tokens - 1.0, now))

    def _remember_bucket(self, owner: str, bucket: Bucket) -> None:
        self._buckets[owner] = bucket
        while len(self._buckets) > self._max:
            self._buckets.popitem(last=False)

    def sent_before(self, owner: str, client_message_id: str, now: float) -> Sent | None:
        """The message ``owner`` already sent with this client id, within the window."""
        found = self._recent.get((owner, client_message_id))
        if found is None or now - found.at > RETRY_WINDOW:
            return None
        return found

    def remember(self, owner: str, client_message_id: str, message_id: str,
                 payload: Mapping[str, Any], now: float) -> None:
        key = (owner, client_message_id)
        self._recent.pop(key, None)
        self._recent[key] = Sent(message_id, payload, now)
        while len(self._recent) > self._max_recent:
            self._recent.popitem(last=False)
