"""Presence and room history through the whole offline stack, including a restart in place."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import ARTIFACTS, require_tool
from tests.support.chat_clients import LISTEN, ChatClient, client
from tests.support.stack import RunningStack, start_stack

pytestmark = pytest.mark.node


@pytest.fixture(autouse=True)
def _node() -> None:
    require_tool("node", "Node.js")


def users_of(event: dict[str, Any]) -> dict[str, int]:
    """``onlineUsers`` lists ``[user, connections, version]``."""
    return {user: connections for user, connections, _ in event["users"]}


async def test_chat_new_connection_gets_the_online_list(stack: RunningStack) -> None:
    """Bob, joining while Alice has two tabs open, sees who is online and how often."""
    async with (
        client(stack, "alice") as _a1, client(stack, "alice") as _a2, client(stack, "bob") as bob,
    ):
        [online] = await bob.wait_message("onlineUsers")
        assert users_of(online) == {"alice": 2, "bob": 1}
        assert online["count"] == 2


async def test_chat_user_joined_and_left_once_per_session(stack: RunningStack) -> None:
    """Alice hears Bob arrive once (two tabs) and leave once (after his last tab closes)."""
    listen = f"{LISTEN},userUpdated"
    async with ChatClient(stack.api_url, name="alice", listen=listen) as alice:
        bob1 = await client(stack, "bob").start()
        [joined] = await alice.wait_message("userJoined", lambda a: a[0]["user"] == "bob")
        bob2 = await client(stack, "bob").start()
        await alice.wait_message("userUpdated", lambda a: a[0] == {
            "user": "bob", "connections": 2, "version": joined["version"] + 1})
        await bob1.stop()
        await alice.wait_message("userUpdated", lambda a: a[0]["connections"] == 1)
        assert not [a for a in alice.messages("userLeft") if a[0]["user"] == "bob"]
        await bob2.stop()
        [left] = await alice.wait_message("userLeft", lambda a: a[0]["user"] == "bob")
        assert left["version"] > joined["version"]
        assert len([a for a in alice.messages("userJoined") if a[0]["user"] == "bob"]) == 1

        # Presence is now empty of Bob: the online list a newcomer gets has no ghost.
        async with client(stack, "carol") as carol:
            [online] = await carol.wait_message("onlineUsers")
            assert users_of(online) == {"alice": 1, "carol": 1}


async def test_chat_history_reaches_a_new_connection_in_order(stack: RunningStack) -> None:
    """Bob, arriving late, gets the room's earlier messages, oldest first, without privates."""
    async with client(stack, "alice") as alice, client(stack, "bob") as bob:
        for text in ("one", "two", "three"):
            await alice.invoke("broadcast", text)
        await alice.invoke("sendToUser", "bob", "private, not history")
        await bob.wait_message("newMessage", lambda a: a[0]["text"] == "three")
        async with client(stack, "carol") as carol:
            [history] = await carol.wait_message("history")
            assert [m["text"] for m in history] == ["one", "two", "three"]
            assert all(m["sender"] == "alice" and "id" in m for m in history)


async def test_chat_history_keeps_only_the_configured_size(tmp_path: Path) -> None:
    """CHAT_HISTORY_SIZE=2: a newcomer gets the last two broadcasts."""
    stack = await start_stack(data_dir=tmp_path / "data", env={"CHAT_HISTORY_SIZE": "2"},
                              log_path=ARTIFACTS / "test_chat_history_size.stack.log")
    try:
        async with client(stack, "alice") as alice:
            for text in ("a", "b", "c"):
                await alice.invoke("broadcast", text)
            async with client(stack, "bob") as bob:
                [history] = await bob.wait_message("history")
                assert [m["text"] for m in history][-2:] == ["b", "c"]
                assert len(history) <= 2
    finally:
        assert await stack.stop() == 0


def port_of(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port


async def test_chat_history_survives_a_restart_of_the_stack(tmp_path: Path) -> None:
    """History and group memberships from before a restart (same ports and data) are kept, and
    nobody who left before it stays listed."""
    data = tmp_path / "data"
    log = ARTIFACTS / "test_chat_history_restart.stack.log"
    stack = await start_stack(data_dir=data, log_path=log)
    try:
        async with client(stack, "alice") as alice:
            first = await alice.invoke("broadcast", "before the restart")
            await alice.wait_message("newMessage", lambda a: a[0]["id"] == first)
            await alice.invoke("joinUserToGroup", "alice", "regulars")
            # Stopped while Alice is still connected: its disconnected event clears presence.
            assert await stack.stop() == 0
            await alice.wait_for(lambda e: e["type"] == "closed")
    finally:
        assert await stack.stop() == 0
    # Restart in place; "--host-port" given last wins over start_stack's own default.
    again = await start_stack(
        data_dir=data, log_path=log, service_port=port_of(stack.service_url),
        extra_args=("--host-port", str(port_of(stack.host_url))),
        env={"CHAT_RECONCILE_SCHEDULE": "* * * * * *"},
    )
    try:
        assert again.host_url == stack.host_url
        async with client(again, "bob") as bob:
            [history] = await bob.wait_message("history")
            assert [m["id"] for m in history] == [first]
            # Alice's departure may reach the roster after Bob's list was read (it was still
            # queued from before the stop): the next reconcile pass repeats it to the room.
            assert await bob.wait_online(lambda online: online == {"bob"}) == {"bob"}
        # The service forgot Alice's group; the app's record puts her back in on connect.
        async with client(again, "alice") as alice:
            message_id = await alice.invoke("sendToGroup", "regulars", "back again")
            await alice.wait_message("newMessage", lambda a: a[0]["id"] == message_id)
    finally:
        assert await again.stop() == 0
