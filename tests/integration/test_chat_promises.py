"""The chat's promises through the whole offline stack, with the official JS client."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import ARTIFACTS, require_tool
from tests.support.chat_clients import LISTEN, ChatClient, client
from tests.support.node_client import NodeClient, NodeClientError
from tests.support.stack import RunningStack, start_stack

pytestmark = pytest.mark.node
LONG = "é" * 1998
"""With a two-digit number in front: 2,000 characters, 3,998 bytes of UTF-8, about 12,000 bytes
once escaped in JSON."""


@pytest.fixture(autouse=True)
def _node() -> None:
    require_tool("node", "Node.js")


def users_of(event: dict[str, object]) -> set[str]:
    return {entry[0] for entry in event["users"]}  # type: ignore[attr-defined, index]


async def test_chat_history_stays_whole_after_a_flood_of_long_non_ascii_messages(
    stack: RunningStack,
) -> None:
    """After 102 broadcasts of 2,000 non-ASCII characters a newcomer still gets the recent
    history, the online list and their own notice: nothing is refused for size."""
    async with (
        client(stack, "alice") as alice, client(stack, "bob") as bob,
        client(stack, "carol") as carol,
    ):
        last = ""
        for round in range(34):
            for sender in (alice, bob, carol):
                last = await sender.invoke("broadcast", f"{round:02}{LONG}")
        await alice.wait_message("newMessage", lambda a: a[0]["id"] == last)
        async with client(stack, "dora") as dora:
            [history] = await dora.wait_message("history")
            [online] = await dora.wait_message("onlineUsers")
            [own] = await dora.wait_message("newConnection")
        assert 5 < len(history) < 102 and history[-1]["id"] == last
        assert all(m["text"].endswith(LONG) for m in history)
        assert len(json.dumps(history)) < 256 * 1024, "escaped, far below the 1 MB limit"
        assert users_of(online) == {"alice", "bob", "carol", "dora"}
        assert own["connectionId"] == dora.connection_id


async def test_chat_rate_limit_refuses_a_user_who_sends_too_fast(tmp_path: Path) -> None:
    """CHAT_SEND_BURST=3, CHAT_SEND_RATE=1: Alice's fourth message in a row is refused with a
    sentence saying how long to wait; Bob is not slowed down by her."""
    stack = await start_stack(data_dir=tmp_path / "data", env={
        "CHAT_SEND_BURST": "3", "CHAT_SEND_RATE": "1"},
        log_path=ARTIFACTS / "test_chat_rate_limit.stack.log")
    try:
        async with client(stack, "alice") as alice, client(stack, "bob") as bob:
            for n in range(3):
                await alice.invoke("broadcast", f"quick {n}")
            with pytest.raises(NodeClientError, match=r"You are sending messages too fast; "
                                                      r"wait \d+ seconds and try again\."):
                await alice.invoke("sendToUser", "bob", "one more")
            message_id = await bob.invoke("broadcast", "I am not limited by her")
            await alice.wait_message("newMessage", lambda a: a[0]["id"] == message_id)
            assert "one more" not in [a[0]["text"] for a in bob.messages("newMessage")]
    finally:
        assert await stack.stop() == 0


async def test_chat_retry_with_the_same_client_message_id_is_sent_once(
    stack: RunningStack,
) -> None:
    """A message retried with its client message id, even from a new connection, has one id,
    reaches Bob once and is kept once in the history."""
    async with client(stack, "alice") as alice, client(stack, "bob") as bob:
        first = await alice.invoke("broadcast", "only once", "msg-1")
        again = await alice.invoke("broadcast", "only once", "msg-1")
        async with client(stack, "alice") as alice_again:  # a reconnect is a new connection
            assert await alice_again.invoke("broadcast", "only once", "msg-1") == first
        assert again == first
        marker = await alice.invoke("broadcast", "marker")
        await bob.wait_message("newMessage", lambda a: a[0]["id"] == marker)
        assert [a[0]["id"] for a in bob.messages("newMessage")].count(first) == 1
        async with client(stack, "late") as late:
            [history] = await late.wait_message("history")
            assert [m["id"] for m in history].count(first) == 1


def _port(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port


async def test_chat_presence_heals_after_the_stack_is_killed(tmp_path: Path) -> None:
    """kill -9 leaves Alice recorded as online. After the restart a private message to her is
    refused, and when she comes back everyone hears her join again."""
    data, log = tmp_path / "data", ARTIFACTS / "test_chat_presence_heals.stack.log"
    stack = await start_stack(data_dir=data, log_path=log)
    alice = await client(stack, "alice").start()
    stack.process.kill()  # no "disconnected" for anyone
    await stack.process.wait()
    if stack.pump is not None:
        await stack.pump
    await alice.wait_for(lambda e: e["type"] == "closed")
    await alice.stop()
    again = await start_stack(data_dir=data, log_path=log, service_port=_port(stack.service_url),
                              extra_args=("--host-port", str(_port(stack.host_url))))
    try:
        async with ChatClient(again.api_url, name="bob", listen=LISTEN) as bob:
            with pytest.raises(NodeClientError, match="alice is not online"):
                await bob.invoke("sendToUser", "alice", "are you a ghost?")
            async with NodeClient(again.api_url, name="alice") as back:
                [joined] = await bob.wait_message("userJoined",
                                                  lambda a: a[0]["user"] == "alice")
                assert joined["connections"] == 1, "the ghost connection was pruned"
                assert back.connection_id
    finally:
        assert await again.stop() == 0
