"""A slow or stuck client is dropped without delaying delivery to the others: every connection
has a bounded outgoing queue (``SessionLimits.max_queued`` in
emulator/signalr/protocol/connection.py)."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import aiohttp
import pytest

from emulator.contracts import issue_token
from tests.hardening.chat_client import RS, ChatClient, negotiate_with_app, open_socket
from tests.hardening.conftest import StackFactory
from tests.hardening.local_stack import KEY
from tests.support.timeouts import TIMEOUT

QUEUE = 20
MESSAGES = 300
PAYLOAD = "p" * (64 * 1024)
"""300 × 64 KiB is far more than loopback socket buffers and the queue can hold together."""


async def test_stuck_client_is_dropped_and_others_get_everything(
    make_local_stack: StackFactory, http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A client that stops reading is dropped; a reading client receives every message."""
    caplog.set_level(logging.INFO)
    stack = await make_local_stack(send_queue_size=QUEUE)
    reader = await ChatClient.connect(http, stack.api_url, "reader")
    info = await negotiate_with_app(http, stack.api_url, "stuck")
    stuck, stuck_id = await open_socket(http, info["url"], info["accessToken"])
    await stuck.send_str(json.dumps({"protocol": "json", "version": 1}) + RS)
    assert (await stuck.receive(timeout=TIMEOUT)).data.startswith("{}")
    # From here on the stuck client never reads its socket.

    path = "/api/v1/hubs/chat"
    token = issue_token(audience=f"http://127.0.0.1{path}", key=KEY, now=time.time())
    headers = {"Authorization": f"Bearer {token}"}
    async with asyncio.timeout(TIMEOUT * 3):
        for number in range(MESSAGES):
            message = {"target": "load", "arguments": [number, PAYLOAD]}
            async with http.post(stack.service_url + path, json=message,
                                 headers=headers) as response:
                assert response.status == 202, await response.text()
        await reader.wait_for(lambda c: sum(r.target == "load" for r in c.received) == MESSAGES,
                              timeout=TIMEOUT * 3)
    numbers = [r.arguments[0] for r in reader.received if r.target == "load"]
    assert numbers == list(range(MESSAGES)), "the reading client lost or reordered messages"
    assert any("dropping connection" in r.getMessage() and stuck_id in r.getMessage()
               for r in caplog.records), "the stuck client was never dropped"
    assert not reader.closed.is_set()
    await stuck.close()
    await reader.close()

