"""A fresh app instance for each test: the shell's per-instance memory and a fake service."""

from __future__ import annotations

import pytest

import chat_io.entities
import chat_io.feed
import chat_io.flows as flows
from chat import SendLimits
from chat_io.cache import Known, Snapshots
from chat_io.feed import PresenceFeed
from tests.unit.chat.function_app_fakes import FakeService


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch) -> FakeService:
    """The SignalR Service the app calls directly; also resets the instance's memory."""
    fake = FakeService()
    snapshots = Snapshots()
    monkeypatch.setattr(flows, "service", lambda: fake)
    monkeypatch.setattr(flows, "SNAPSHOTS", snapshots)
    monkeypatch.setattr(flows, "FEED", PresenceFeed(snapshots))
    monkeypatch.setattr(flows, "KNOWN", Known())
    monkeypatch.setattr(flows, "LIMITS", SendLimits())
    # Entity reads in these tests are in memory: a read-back gives up after a few milliseconds.
    monkeypatch.setattr(chat_io.entities, "CONFIRM_DELAYS", (0.001,) * 4)
    monkeypatch.setattr(chat_io.feed, "FLUSH_INTERVAL", 0.0)
    return fake
