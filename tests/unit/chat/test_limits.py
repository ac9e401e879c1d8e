"""The per-user send rate and the recognition of retries, driven by the clock we pass."""

from __future__ import annotations

import pytest

from chat import SendLimits, Settings, TooFast
from chat.limits import RETRY_WINDOW

SETTINGS = Settings(send_rate=60, send_burst=3)


def test_send_limits_allow_a_burst_then_refuse_with_the_wait() -> None:
    limits = SendLimits()
    for _ in range(3):
        assert limits.admit("u:ada", None, 100.0, SETTINGS) is None
    with pytest.raises(TooFast, match=r"too fast; wait 1 second and try again\.") as refused:
        limits.admit("u:ada", None, 100.0, SETTINGS)
    assert refused.value.retry_after == pytest.approx(1.0)
    assert refused.value.status_hint == 429
    assert limits.admit("u:bob", None, 100.0, SETTINGS) is None, "per user"


def test_send_limits_refill_at_the_rate() -> None:
    limits = SendLimits()
    for _ in range(3):
        limits.admit("u:ada", None, 0.0, SETTINGS)
    with pytest.raises(TooFast, match="wait 1 second"):
        limits.admit("u:ada", None, 0.5, SETTINGS)
    assert limits.admit("u:ada", None, 1.0, SETTINGS) is None  # one a second
    slow = Settings(send_rate=6, send_burst=1)
    limits.admit("u:cy", None, 0.0, slow)
    with pytest.raises(TooFast, match="wait 10 seconds"):
        limits.admit("u:cy", None, 0.0, slow)


def test_send_limits_recognise_a_retry_without_spending_the_allowance() -> None:
    limits = SendLimits()
    assert limits.admit("u:ada", "k1", 0.0, SETTINGS) is None
    limits.remember("u:ada", "k1", "m-1", {"id": "m-1", "text": "hi"}, 0.0)
    for _ in range(10):
        earlier = limits.admit("u:ada", "k1", 1.0, SETTINGS)
        assert earlier is not None and earlier.message_id == "m-1"
        assert earlier.payload == {"id": "m-1", "text": "hi"}
    assert limits.admit("u:bob", "k1", 1.0, SETTINGS) is None, "another sender's id"
    assert limits.sent_before("u:ada", "k1", RETRY_WINDOW + 1) is None, "forgotten in time"


def test_send_limits_memory_is_bounded() -> None:
    limits = SendLimits(max_tracked=2, max_recent=3)
    for n in range(5):
        limits.remember(f"u:{n}", "k", f"m{n}", {}, 0.0)
        limits.admit(f"u:{n}", None, 0.0, SETTINGS)
    assert limits.sent_before("u:1", "k", 0.0) is None
    found = limits.sent_before("u:4", "k", 0.0)
    assert found is not None and found.message_id == "m4"
    assert len(limits._buckets) == 2 and len(limits._recent) == 3
