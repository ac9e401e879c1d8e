"""Hostile input over long polling: the HTTP transports share the WebSocket's
protocol core, and their own limit — a POST body over the maximum message size — is a 413.
The offending connection ends with a reason; a WebSocket client on the same hub chats on."""

from __future__ import annotations

import aiohttp
import pytest

from tests.hardening.chat_client import RS, ChatClient, negotiate_with_app
from tests.hardening.conftest import StackFactory
from tests.hardening.local_stack import LocalStack

MAX_MESSAGE = 16 * 1024
HANDSHAKE = '{"protocol":"json","version":1}' + RS


async def _long_polling(stack: LocalStack, http: aiohttp.ClientSession) -> tuple[str, dict]:
    """A long-polling connection through the app's negotiate, handshake done."""
    info = await negotiate_with_app(http, stack.api_url, "poller")
    auth = {"Authorization": f"Bearer {info['accessToken']}"}
    base, _, query = info["url"].partition("?")
    async with http.post(f"{base.rstrip('/')}/negotiate?{query}&negotiateVersion=1",
                         headers=auth) as response:
        token = (await response.json())["connectionToken"]
    url = f"{info['url']}&id={token}"
    async with http.get(url + "&_=1", headers=auth) as response:
        assert response.status == 200
    async with http.post(url, data=HANDSHAKE, headers=auth) as response:
        assert response.status == 200
    async with http.get(url + "&_=2", headers=auth) as response:
        assert (await response.read()).startswith(b"{}")
    return url, auth


async def _poll_until_closed(http: aiohttp.ClientSession, url: str, auth: dict) -> bytes:
    """Everything the poller receives until the service ends the connection (204 or 404)."""
    received = b""
    for number in range(3, 20):
        async with http.get(f"{url}&_={number}", headers=auth) as response:
            if response.status != 200:
                return received
            received += await response.read()
    raise AssertionError(f"the connection was never closed; received {received!r}")


@pytest.mark.parametrize(("body", "status", "reason"), [
    ('{"type":1,"target":"broadcast","arguments":[' + '"x",' * MAX_MESSAGE + '"y"]}' + RS,
     413, None),
    ("{not json" + RS, 200, b"not valid JSON"),
    ('{"type":42}' + RS, 200, b"unknown message type 42"),
])
async def test_long_polling_hostile_post_closes_that_connection_only(
    make_local_stack: StackFactory, http: aiohttp.ClientSession, body: str, status: int,
    reason: bytes | None,
) -> None:
    stack = await make_local_stack(max_message_size=MAX_MESSAGE)
    bystander = await ChatClient.connect(http, stack.api_url, "bystander")
    url, auth = await _long_polling(stack, http)
    async with http.post(url, data=body, headers=auth) as response:
        assert response.status == status, await response.text()
    if reason is not None:
        assert reason in await _poll_until_closed(http, url, auth)
    sender = await ChatClient.connect(http, stack.api_url, "sender")
    await sender.invoke("broadcast", "the websocket side is fine")
    await bystander.wait_for_message("the websocket side is fine")
    assert not bystander.closed.is_set()
    await sender.close()
    await bystander.close()
