"""Presence converges on the service's connections after outages that lose connection events.

The service and the host run as two processes (tests/support/split_stack.py) so that either, or
both, can be killed with ``kill -9`` mid-chat. The reconcile timer runs every two seconds
(``CHAT_RECONCILE_SCHEDULE``); official JS clients watch what the room is told.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import ARTIFACTS
from tests.support.chat_clients import LISTEN, ChatClient
from tests.support.node_client import NodeClient, NodeClientError
from tests.support.split_stack import SplitStack
from tests.support.timeouts import TIMEOUT

pytestmark = pytest.mark.node
SETTINGS = {"CHAT_RECONCILE_SCHEDULE": "*/2 * * * * *"}
PASS = r"chat: reconcile: (\d+) shard\(s\) checked, (\d+) change\(s\)"
CONVERGED = PASS.replace(r"(\d+) change", "0 change")


@pytest.fixture
async def split(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[SplitStack]:
    stack = SplitStack(data_dir=tmp_path / "data", settings=SETTINGS,
                       log_path=ARTIFACTS / f"{request.node.name}.split.log")
    await stack.start("service")
    await stack.start("host")
    yield stack
    await stack.stop()


def chat_client(stack: SplitStack, name: str, **options: Any) -> ChatClient:
    return ChatClient(stack.api_url, name=name, listen=LISTEN, **options)


def users_of(online: dict[str, Any]) -> set[str]:
    return {entry[0] for entry in online["users"]}


async def sees_only(client: ChatClient, *users: str) -> None:
    """Until the client's page would list exactly ``users`` as online."""
    await client.wait_online(lambda online: online == set(users), timeout=TIMEOUT * 2)


async def newcomer_sees(stack: SplitStack, name: str) -> set[str]:
    """The online list a new connection receives."""
    async with chat_client(stack, name) as late:
        [online] = await late.wait_message("onlineUsers")
    return users_of(online)


async def settled(stack: SplitStack) -> None:
    """A reconcile pass after the repair changes nothing."""
    await stack.wait_log(CONVERGED, since=len(stack.lines), timeout=TIMEOUT)


async def test_presence_converges_after_the_service_is_killed(split: SplitStack) -> None:
    """The service dies with Ann and Bob on it (no ``disconnected`` for either). Ann's client
    reconnects to the restarted service, Bob never comes back: Ann's page stops listing Bob
    (by a ``userLeft``, or the list she gets on reconnecting), a newcomer does not see him, and
    a private message to him is refused."""
    ann = await chat_client(split, "ann", reconnect=True).start()
    bob = await chat_client(split, "bob").start()
    await ann.wait_online(lambda online: online == {"ann", "bob"})
    try:
        await split.kill("service")
        await bob.wait_for(lambda e: e["type"] == "closed")
        await bob.stop()
        await split.start("service")
        await ann.wait_for(lambda e: e["type"] == "reconnected", timeout=TIMEOUT * 2)
        await sees_only(ann, "ann")
        assert await newcomer_sees(split, "carol") == {"ann", "carol"}
        with pytest.raises(NodeClientError, match="bob is not online"):
            await ann.invoke("sendToUser", "bob", "are you there?")
        await settled(split)
    finally:
        await ann.stop()


async def test_presence_converges_after_the_host_is_killed(split: SplitStack) -> None:
    """The host dies: Bob leaves and Dan arrives while it is down, so the service cannot tell
    it. When the host is back, the reconcile tells Ann that Bob left, and Dan's first message
    registers him: Ann is told he joined, and a newcomer sees Ann and Dan."""
    ann = await chat_client(split, "ann").start()
    bob = await chat_client(split, "bob").start()
    await ann.wait_online(lambda online: online == {"ann", "bob"})
    async with aiohttp.ClientSession() as http, http.post(
        f"{split.api_url}/negotiate", headers={"x-ms-client-principal-name": "dan"}
    ) as response:
        assert response.status == 200
        ticket = await response.json()
    try:
        await split.kill("host")
        await bob.stop()  # its "disconnected" finds no host
        async with NodeClient(ticket["url"], token=ticket["accessToken"], listen=LISTEN) as dan:
            await split.wait_log(r"^service: .*connected.*(refused|failed|unreachable|error)",
                                 timeout=TIMEOUT)
            await split.start("host")
            [gone] = await ann.wait_message("userLeft", lambda a: a[0]["user"] == "bob",
                                            timeout=TIMEOUT * 2)
            assert gone["version"] > 1
            message_id = await dan.invoke("broadcast", "I came in while the host was down")
            await ann.wait_message("newMessage", lambda a: a[0]["id"] == message_id)
            [joined] = await ann.wait_message("userJoined", lambda a: a[0]["user"] == "dan")
            assert joined["connections"] == 1
            assert await newcomer_sees(split, "eve") == {"ann", "dan", "eve"}
            await settled(split)
    finally:
        await ann.stop()


async def test_presence_converges_after_both_are_killed(split: SplitStack) -> None:
    """Service and host die together; the durable store keeps Ann and Bob online. Ann's client
    reconnects once both are back, Bob's never does: the room converges on Ann alone."""
    ann = await chat_client(split, "ann", reconnect=True).start()
    bob = await chat_client(split, "bob").start()
    await ann.wait_online(lambda online: online == {"ann", "bob"})
    try:
        await split.kill("host")
        await split.kill("service")
        await bob.wait_for(lambda e: e["type"] == "closed")
        await bob.stop()
        await split.start("host")
        await split.start("service")
        await ann.wait_for(lambda e: e["type"] == "reconnected", timeout=TIMEOUT * 2)
        await sees_only(ann, "ann")
        assert await newcomer_sees(split, "carol") == {"ann", "carol"}
        await settled(split)
    finally:
        await ann.stop()
