"""Soak: many clients chatting through the full stack (``python -m emulator``) for a bounded
time — nothing lost, nothing duplicated, order kept per sender, memory flat after warm-up.

``make test`` runs the short form (50 clients × 10 s); ``make soak`` the issue's full size
(``SOAK_CLIENTS=500 SOAK_SECONDS=60``). The report is printed and written to
``test-artifacts/soak.json``.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from tests.hardening.soak import SoakSettings, run_soak
from tests.support.stack import RunningStack
from tests.support.timeouts import TIMEOUT

GROWTH_ALLOWANCE_KIB = 24 * 1024
"""What the stack may gain between warm-up and the end: allocator noise, never a leak that
scales with the number of messages (a leak of a few hundred bytes a delivery exceeds it)."""


async def test_soak_clients_chat_without_loss_or_duplicates(
    stack: RunningStack, artifacts: Path
) -> None:
    """Every acknowledged message reaches every client once, in order; memory stays flat."""
    settings = SoakSettings.from_environment()
    report = await run_soak(stack.api_url, stack.process.pid, settings)
    summary = report.as_dict()
    (artifacts / "soak.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print("soak:", json.dumps(summary))

    await _disconnects_handled(stack, settings.clients)

    assert report.failed == [], report.failed[:5]
    assert report.acknowledged and len(report.acknowledged) == report.sent
    assert report.lost == 0 and report.duplicated == 0 and report.out_of_order == 0, summary
    assert report.deliveries == len(report.acknowledged) * settings.clients
    stack_rss = report.rss_kib["stack"]
    assert stack_rss["end"] - stack_rss["warm"] <= GROWTH_ALLOWANCE_KIB, stack_rss


async def _disconnects_handled(stack: RunningStack, clients: int) -> None:
    """Let the host finish every client's ``disconnected`` function before the stack is stopped
    (hundreds of them queue up at once; stopping mid-way would cut them off)."""
    done = "Executed 'Functions.on_disconnected'"
    async with asyncio.timeout(TIMEOUT * 6):
        while sum(done in line for line in stack.lines) < clients:
            await asyncio.sleep(0.1)  # the stack's log is pumped by another task: poll it
