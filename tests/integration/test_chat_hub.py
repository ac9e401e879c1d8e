"""The hub contract through the whole offline stack, with several official JS clients.

Every client negotiates through the app's /api/negotiate as a named user (what the page does in
development), so each call's identity is the token's user id, as on Azure.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import ARTIFACTS, require_tool
from tests.support.chat_clients import client
from tests.support.node_client import NodeClient, NodeClientError
from tests.support.stack import RunningStack, start_stack

pytestmark = pytest.mark.node


@pytest.fixture(autouse=True)
def _node() -> None:
    require_tool("node", "Node.js")


@pytest.fixture
async def admin_stack(tmp_path: Path) -> AsyncIterator[RunningStack]:
    """The stack with ``CHAT_ADMINS=root`` (an environment variable wins over the settings)."""
    running = await start_stack(data_dir=tmp_path / "data", env={"CHAT_ADMINS": "root"},
                                log_path=ARTIFACTS / "test_chat_hub.admin.stack.log")
    yield running
    assert await running.stop() == 0


def texts(receiver: NodeClient) -> list[str]:
    return [args[0]["text"] for args in receiver.messages("newMessage")]


async def marker(sender: NodeClient, *receivers: NodeClient, text: str = "marker") -> None:
    """A broadcast everyone waits for: whatever was sent to them before has arrived by then."""
    message_id = await sender.invoke("broadcast", text)
    for receiver in (sender, *receivers):
        await receiver.wait_message("newMessage", lambda a, i=message_id: a[0]["id"] == i)


async def test_chat_private_message_reaches_every_connection_of_the_user(
    stack: RunningStack,
) -> None:
    """Bob, signed in twice, gets Alice's private message on both; Alice sees her copy; Carol
    sees nothing."""
    async with (
        client(stack, "alice") as alice, client(stack, "bob") as bob1,
        client(stack, "bob") as bob2, client(stack, "carol") as carol,
    ):
        message_id = await alice.invoke("sendToUser", "bob", "just for you")
        for receiver in (bob1, bob2, alice):
            [message] = await receiver.wait_message(
                "newMessage", lambda a: a[0]["id"] == message_id)
            assert message["isPrivate"] is True
            assert (message["sender"], message["recipient"]) == ("alice", "bob")
            assert message["connectionId"] == alice.connection_id
        await marker(alice, carol)
        assert "just for you" not in texts(carol)
        assert texts(bob1).count("just for you") == 1


async def test_chat_private_message_to_an_offline_user_tells_the_sender(
    stack: RunningStack,
) -> None:
    """Sending to someone who is not online is refused with a readable reason."""
    async with client(stack, "alice") as alice:
        with pytest.raises(NodeClientError, match="dora is not online"):
            await alice.invoke("sendToUser", "dora", "hello?")
        await marker(alice)
        assert "hello?" not in texts(alice)


async def test_chat_send_to_connection_reaches_only_that_connection(stack: RunningStack) -> None:
    """A message to one of Bob's connections reaches that one, not his other one."""
    async with (
        client(stack, "alice") as alice, client(stack, "bob") as bob1,
        client(stack, "bob") as bob2,
    ):
        assert bob1.connection_id
        message_id = await alice.invoke("sendToConnection", bob1.connection_id, "one tab")
        [message] = await bob1.wait_message("newMessage", lambda a: a[0]["id"] == message_id)
        assert message["isPrivate"] is True and message["recipient"] == bob1.connection_id
        await alice.wait_message("newMessage", lambda a: a[0]["id"] == message_id)
        await marker(alice, bob2)
        assert "one tab" not in texts(bob2)
        with pytest.raises(NodeClientError, match="is not connected"):
            await alice.invoke("sendToConnection", "no-such-connection", "x")


async def test_chat_group_join_send_and_leave(stack: RunningStack) -> None:
    """Members hear the group; others can neither hear nor send to it; leaving ends both."""
    async with client(stack, "alice") as alice, client(stack, "bob") as bob:
        with pytest.raises(NodeClientError, match="Only members of book club"):
            await alice.invoke("sendToGroup", "book club", "too early")
        assert await alice.invoke("joinGroup", alice.connection_id, " book club ") == "book club"
        message_id = await alice.invoke("sendToGroup", "book club", "chapter one")
        [message] = await alice.wait_message("newMessage", lambda a: a[0]["id"] == message_id)
        assert message["group"] == "book club" and "isPrivate" not in message
        with pytest.raises(NodeClientError, match="Only members"):
            await bob.invoke("sendToGroup", "book club", "let me in")
        await marker(alice, bob)
        assert "chapter one" not in texts(bob)

        await alice.invoke("leaveGroup", alice.connection_id, "book club")
        with pytest.raises(NodeClientError, match="Only members"):
            await alice.invoke("sendToGroup", "book club", "still here?")


async def test_chat_join_group_only_for_ones_own_connection(stack: RunningStack) -> None:
    """Without admin rights, a user cannot move someone else's connection in or out."""
    async with client(stack, "alice") as alice, client(stack, "bob") as bob:
        for method in ("joinGroup", "leaveGroup"):
            with pytest.raises(NodeClientError, match=r"only .* your own connection"):
                await alice.invoke(method, bob.connection_id, "team")


async def test_chat_admin_may_move_other_connections(admin_stack: RunningStack) -> None:
    """An admin (CHAT_ADMINS) adds Bob's connection to a group; Bob then hears and sends."""
    async with client(admin_stack, "root") as root, client(admin_stack, "bob") as bob:
        await root.invoke("joinGroup", bob.connection_id, "ops")
        message_id = await bob.invoke("sendToGroup", "ops", "thanks")
        await bob.wait_message("newMessage", lambda a: a[0]["id"] == message_id)
        await root.invoke("leaveGroup", bob.connection_id, "ops")
        with pytest.raises(NodeClientError, match="Only members"):
            await bob.invoke("sendToGroup", "ops", "gone")
        with pytest.raises(NodeClientError, match="is not connected"):
            await root.invoke("joinGroup", "no-such-connection", "ops")


async def test_chat_join_user_to_group_covers_every_connection(stack: RunningStack) -> None:
    """Joining oneself as a user puts all of one's connections in the group."""
    async with client(stack, "bob") as bob1, client(stack, "bob") as bob2:
        await bob1.invoke("joinUserToGroup", "bob", "night owls")
        message_id = await bob2.invoke("sendToGroup", "night owls", "hoot")
        for receiver in (bob1, bob2):
            await receiver.wait_message("newMessage", lambda a: a[0]["id"] == message_id)
        await bob2.invoke("leaveUserFromGroup", "bob", "night owls")
        with pytest.raises(NodeClientError, match="Only members"):
            await bob1.invoke("sendToGroup", "night owls", "hoot?")


async def test_chat_join_user_to_group_for_others_needs_an_admin(
    admin_stack: RunningStack,
) -> None:
    """Alice cannot enrol Bob; root (an admin) can, and can take him out again."""
    async with (
        client(admin_stack, "alice") as alice, client(admin_stack, "bob") as bob,
        client(admin_stack, "root") as root,
    ):
        for method in ("joinUserToGroup", "leaveUserFromGroup"):
            with pytest.raises(NodeClientError, match=r"only .* yourself"):
                await alice.invoke(method, "bob", "team")
        await root.invoke("joinUserToGroup", "bob", "team")
        message_id = await bob.invoke("sendToGroup", "team", "in")
        await bob.wait_message("newMessage", lambda a: a[0]["id"] == message_id)
        await root.invoke("leaveUserFromGroup", "bob", "team")
        with pytest.raises(NodeClientError, match="Only members"):
            await bob.invoke("sendToGroup", "team", "out")


REFUSED = [
    ("broadcast", ["x" * 2001], "at most 2000 characters"),
    ("broadcast", ["é" * 2001], "at most 2000 characters"),
    ("broadcast", ["😀" * 1001], "at most 4000 bytes long; this one has 4004"),
    ("sendToGroup", ["no/slash", "hi"], "letters, digits, spaces"),
    ("joinGroup", ["self", "x" * 65], "at most 64 characters"),
    ("sendToUser", ["x" * 65, "hi"], "at most 64 characters"),
    ("sendToUser", ["bob", 42], "must be text"),
    ("broadcast", [], r"broadcast\(text, clientMessageId\?\) takes 1 or 2 arguments"),
    ("broadcast", ["hi", "not an id"], "client message id"),
]


async def test_chat_refuses_invalid_calls_with_a_reason(stack: RunningStack) -> None:
    """Every invalid call rejects the caller's invoke() with the reason, and sends nothing."""
    async with client(stack, "alice") as alice:
        for method, arguments, reason in REFUSED:
            values = [alice.connection_id if a == "self" else a for a in arguments]
            with pytest.raises(NodeClientError, match=reason):
                await alice.invoke(method, *values)
        await marker(alice)
        assert texts(alice) == ["marker"]


async def test_chat_identity_comes_from_the_token_not_the_arguments(stack: RunningStack) -> None:
    """Extra or forged arguments cannot change who a message is from."""
    async with client(stack, "mallory") as mallory:
        with pytest.raises(NodeClientError):
            await mallory.invoke("broadcast", "hi", "alice", "bob")
        message_id = await mallory.invoke("broadcast", "who am I", "alice")
        [message] = await mallory.wait_message("newMessage", lambda a: a[0]["id"] == message_id)
        assert message["sender"] == "mallory"


async def test_chat_messagepack_clients_get_the_same_payloads(stack: RunningStack) -> None:
    """A MessagePack client and a JSON client see the same camelCase message."""
    async with (
        client(stack, "alice", protocol="messagepack") as alice, client(stack, "bob") as bob,
    ):
        message_id = await alice.invoke("sendToUser", "bob", "packed")
        [packed] = await alice.wait_message("newMessage", lambda a: a[0]["id"] == message_id)
        [plain] = await bob.wait_message("newMessage", lambda a: a[0]["id"] == message_id)
        assert packed == plain
