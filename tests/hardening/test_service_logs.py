"""What a client sends cannot forge a log line of the service: control characters in anything
logged (a protocol name, a path, a user id, a hub method) come out escaped."""

from __future__ import annotations

import logging
import time

import aiohttp
import pytest

from emulator.contracts import client_audience, issue_token
from tests.hardening.conftest import StackFactory
from tests.hardening.local_stack import KEY
from tests.support.timeouts import TIMEOUT

RS = "\x1e"
FORGED = "\n12:00:00 WARNING emulator.signalr: forged\x1b[2J"


def _token(user: str) -> str:
    return issue_token(audience=client_audience("http://127.0.0.1", "chat"), key=KEY,
                       now=time.time(), user_id=user)


def _no_forged_line(caplog: pytest.LogCaptureFixture) -> None:
    for record in caplog.records:
        text = record.getMessage()
        assert "\n" not in text and "\x1b" not in text, text


async def test_service_log_lines_cannot_be_forged(
    make_local_stack: StackFactory, http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A protocol name, a user id, a hub method and a path with CR/LF/ESC are logged escaped."""
    caplog.set_level(logging.DEBUG, logger="emulator.signalr")
    stack = await make_local_stack()
    url = f"{stack.service_url}/client/?hub=chat&access_token={_token('mallory' + FORGED)}"
    ws = await http.ws_connect(url)
    await ws.send_str('{"protocol":"json","version":1}' + RS)
    await ws.receive(timeout=TIMEOUT)
    await ws.send_str('{"type":1,"target":"x' + FORGED.replace("\n", "\\n").replace(
        "\x1b", "\\u001b") + '","arguments":[]}' + RS)
    await ws.close()
    ws = await http.ws_connect(url)
    name = "x" + FORGED.replace("\n", "\\n").replace("\x1b", "\\u001b")
    await ws.send_str('{"protocol":"' + name + '","version":1}' + RS)
    await ws.receive(timeout=TIMEOUT)
    await ws.close()
    async with http.post(f"{stack.service_url}/api/hubs/chat%0Aforged") as response:
        assert response.status == 401
    _no_forged_line(caplog)
    assert any("forged" in record.getMessage() for record in caplog.records), (
        "the values were logged (escaped), not dropped")
