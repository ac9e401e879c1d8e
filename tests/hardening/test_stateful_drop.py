"""A transport dropped in the middle of a stream, with stateful reconnect on
(docs/client-protocol.md, "Stateful reconnect"): every message arrives exactly once, in order per
sender.

Official ``@microsoft/signalr`` clients (Node, ``withStatefulReconnect()``) talk to the chat app
through the in-process stack; the service cuts their WebSockets (no close frame, as a network
failure would) while two senders stream broadcasts.
"""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from emulator.signalr.app import SERVICE_KEY
from tests.hardening.chat_client import ChatClient
from tests.hardening.conftest import StackFactory
from tests.hardening.local_stack import LocalStack
from tests.support.node_client import NodeClient
from tests.support.timeouts import TIMEOUT

pytestmark = [pytest.mark.node]

COUNT = 40


def _cut(stack: LocalStack, connection_id: str) -> None:
    """Abort the connection's TCP transport from the service side: no close frame."""
    service = stack.service_app[SERVICE_KEY]
    (session,) = [s for s in service.registry.sessions() if s.connection_id == connection_id]
    assert session.core.buffer is not None, "stateful reconnect is not on for this connection"
    session.abort_transport()


def _texts(client: NodeClient) -> list[str]:
    return [args[0]["text"] for args in client.messages("newMessage")
            if args and isinstance(args[0], dict) and "text" in args[0]]


@pytest.mark.parametrize("protocol", ["json", "messagepack"])
async def test_stateful_drop_mid_stream_delivers_each_message_once_in_order(
    make_local_stack: StackFactory, http: aiohttp.ClientSession, protocol: str
) -> None:
    """Cut sockets mid-stream: the receiver still gets each message once, in sender order."""
    stack = await make_local_stack()
    async with (
        NodeClient(stack.api_url, name="receiver", stateful=True, protocol=protocol,
                   transport="WebSockets") as receiver,
        NodeClient(stack.api_url, name="sender-a", stateful=True, protocol=protocol,
                   transport="WebSockets") as sender_a,
    ):
        sender_b = await ChatClient.connect(http, stack.api_url, "sender-b")
        assert receiver.connection_id and sender_a.connection_id

        async def stream_a() -> None:
            for n in range(COUNT):
                await sender_a.invoke("broadcast", f"a:{n}")

        async def stream_b() -> None:
            for n in range(COUNT):
                await sender_b.invoke("broadcast", f"b:{n}")

        streams = asyncio.gather(stream_a(), stream_b())
        # Cut while messages are flowing: after the receiver has seen a quarter, then a half.
        for seen in (COUNT // 2, COUNT):
            await receiver.wait_for(lambda e, seen=seen: len(_texts(receiver)) >= seen)
            _cut(stack, receiver.connection_id)
            _cut(stack, sender_a.connection_id)
        async with asyncio.timeout(TIMEOUT * 3):
            await streams
        await receiver.wait_for(lambda e: len(_texts(receiver)) >= 2 * COUNT)

        texts = _texts(receiver)
        assert len(texts) == len(set(texts)) == 2 * COUNT, "a message was lost or duplicated"
        for sender in ("a", "b"):
            mine = [int(t.split(":")[1]) for t in texts if t.startswith(f"{sender}:")]
            assert mine == list(range(COUNT)), f"sender {sender}'s messages out of order"
        assert not [e for e in receiver.events + sender_a.events
                    if e["type"] in ("reconnecting", "closed")], "the drop was not transparent"
        await sender_b.close()
