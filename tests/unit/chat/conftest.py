"""Each test is a fresh app instance (its own event loop); the service is a fake."""

from __future__ import annotations

import pytest

import chat_io.entities
import chat_io.feed
import chat_io.flows as flows
from tests.unit.chat.function_app_fakes import FakeService


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch) -> FakeService:
    """The SignalR Service the app calls directly."""
    fake = FakeService()
    monkeypatch.setattr(flows, "service", lambda: fake)
    # Entity reads in these tests are in memory: a read-back gives up after a few milliseconds.
    monkeypatch.setattr(chat_io.entities, "CONFIRM_DELAYS", (0.001,) * 4)
    monkeypatch.setattr(chat_io.feed, "FLUSH_INTERVAL", 0.0)
    return fake
