"""The official @microsoft/signalr client (under Node) against the service alone."""

from __future__ import annotations

import pytest

from tests.integration.signalr.support import echo
from tests.support.node_client import NodeClient, NodeClientError

pytestmark = [
    pytest.mark.node,
]


MATRIX = [
    ("WebSockets", "json"), ("WebSockets", "messagepack"), ("ServerSentEvents", "json"),
    ("LongPolling", "json"), ("LongPolling", "messagepack"),
]


@pytest.mark.parametrize("stateful", [False, True], ids=["plain", "stateful"])
@pytest.mark.parametrize(("transport", "protocol"), MATRIX)
async def test_official_client_invokes_and_receives_broadcast(make_service, upstream, http,
                                                              transport, protocol, stateful):
    """The JS client connects, gets invoke results and errors, and receives a REST broadcast."""
    upstream.respond = echo
    service = await make_service(upstream.url)
    url = f"{service.base}/client/?hub=chat"
    async with NodeClient(url, token=service.client_token(user_id="u1"), protocol=protocol,
                          transport=transport, listen="newMessage",
                          stateful=stateful) as client:
        assert await client.invoke("Echo", {"n": 1}) == {"n": 1}
        with pytest.raises(NodeClientError, match="nope"):
            await client.invoke("Fail")
        path = "/api/hubs/chat/:send"
        async with http.post(service.base + path, json={"target": "newMessage",
                                                        "arguments": ["hello"]},
                             headers={"Authorization": f"Bearer {service.rest_token(path)}"}) as r:
            assert r.status == 202
        assert await client.wait_message("newMessage") == ["hello"]
        connected = await upstream.next_call("connected")
        assert connected.headers["X-ASRS-Connection-Id"] == client.connection_id


@pytest.mark.parametrize("transport", ["WebSockets", "ServerSentEvents", "LongPolling"])
async def test_official_client_stop_reaches_upstream_disconnected(make_service, upstream,
                                                                  transport):
    """Stopping the JS client ends the connection and the upstream hears 'disconnected'."""
    service = await make_service(upstream.url)
    url = f"{service.base}/client/?hub=chat"
    client = NodeClient(url, token=service.client_token(), transport=transport)
    await client.start()
    await upstream.next_call("connected")
    await client.stop()
    call = await upstream.next_call("disconnected")
    assert call.headers["X-ASRS-Connection-Id"] == client.connection_id
    assert client.events[-2:][0]["type"] == "closed" or any(
        e["type"] == "closed" for e in client.events)


@pytest.mark.parametrize("transport", ["WebSockets", "ServerSentEvents", "LongPolling"])
async def test_official_client_sees_rest_close_reason(make_service, http, transport):
    """A REST close of the connection reaches the JS client as a close with the reason."""
    service = await make_service()
    url = f"{service.base}/client/?hub=chat"
    async with NodeClient(url, token=service.client_token(), transport=transport) as client:
        path = f"/api/hubs/chat/connections/{client.connection_id}"
        async with http.delete(service.base + path + "?reason=kicked", headers={
                "Authorization": f"Bearer {service.rest_token(path)}"}) as r:
            assert r.status == 200
        closed = await client.wait_for(lambda e: e["type"] == "closed")
        assert closed["error"] is not None and "kicked" in closed["error"]


@pytest.mark.parametrize(("transport", "protocol"), MATRIX)
async def test_official_client_round_trips_a_large_invocation(make_service, upstream, transport,
                                                              protocol):
    """Bodies far larger than one read chunk arrive whole: the POST send and the upstream reply."""
    upstream.respond = echo
    service = await make_service(upstream.url)
    url = f"{service.base}/client/?hub=chat"
    text = "".join(chr(0x41 + i % 26) for i in range(400_000))
    async with NodeClient(url, token=service.client_token(user_id="u1"), protocol=protocol,
                          transport=transport) as client:
        assert await client.invoke("Echo", text) == text
    call = await upstream.next_call("Echo")
    assert text.encode() in call.body
