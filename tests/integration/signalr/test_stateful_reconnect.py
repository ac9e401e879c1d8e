"""Stateful reconnect: a dropped WebSocket is reattached with no message lost or duplicated."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from aiohttp import web

from emulator.signalr.app import SERVICE_KEY
from emulator.signalr.protocol.connection import State
from tests.integration.signalr.support import RS, echo
from tests.support.node_client import NodeClient
from tests.support.timeouts import TIMEOUT


async def _broadcast(http, service, *args):
    path = "/api/hubs/chat/:send"
    async with http.post(service.base + path, json={"target": "newMessage", "arguments": args},
                         headers={"Authorization": f"Bearer {service.rest_token(path)}"}) as r:
        assert r.status == 202


async def test_negotiate_offers_stateful_reconnect_only_when_asked(make_service, http):
    """useStatefulReconnect is echoed only when the client asked for it."""
    service = await make_service()
    headers = {"Authorization": f"Bearer {service.client_token()}"}
    for query, expected in (("&useStatefulReconnect=true", True), ("", None)):
        async with http.post(f"{service.base}/client/negotiate?hub=chat&negotiateVersion=1"
                             + query, headers=headers) as r:
            assert (await r.json()).get("useStatefulReconnect") is expected


async def _stateful_raw(http, service):
    token = service.client_token()
    async with http.post(f"{service.base}/client/negotiate?hub=chat&negotiateVersion=1"
                         "&useStatefulReconnect=true",
                         headers={"Authorization": f"Bearer {token}"}) as r:
        body = await r.json()
    url = f"{service.base}/client/?hub=chat&id={body['connectionToken']}&access_token={token}"
    ws = await http.ws_connect(url)
    await ws.send_str('{"protocol":"json","version":2}' + RS)
    assert (await ws.receive(timeout=TIMEOUT)).data == "{}" + RS
    return url, ws


async def _messages(ws) -> list[dict]:
    frame = await ws.receive(timeout=TIMEOUT)
    assert frame.type == aiohttp.WSMsgType.TEXT, frame
    return [json.loads(p) for p in frame.data.split(RS) if p]


async def test_stateful_reattach_replays_unacked_messages(make_service, http):
    """After a drop, the new socket gets Sequence then every unacknowledged message, once."""
    service = await make_service(keep_alive_interval=60)
    url, ws = await _stateful_raw(http, service)
    await _broadcast(http, service, 1)
    assert (await _messages(ws))[0]["arguments"] == [1]
    await ws.send_str('{"type":8,"sequenceId":0}' + RS)
    connection = service.app[SERVICE_KEY].registry.sessions()[0]
    connection.abort_transport()
    await asyncio.wait_for(ws.receive(), TIMEOUT)  # the client side sees the drop
    await asyncio.wait_for(_until_detached(connection), TIMEOUT)
    await _broadcast(http, service, 2)
    ws2 = await http.ws_connect(url)
    received: list[dict] = []
    while len([m for m in received if m.get("type") == 1]) < 2:
        received += await _messages(ws2)
    assert received[0] == {"type": 9, "sequenceId": 1}
    assert [m["arguments"] for m in received if m.get("type") == 1] == [[1], [2]]
    await ws2.send_str('{"type":9,"sequenceId":1}' + RS)
    await ws2.close()


async def test_stateful_connection_expires_after_grace(make_service, http, upstream):
    """A dropped stateful connection that never comes back is disconnected after the grace."""
    service = await make_service(upstream.url, reconnect_grace=0.2)
    url, _ws = await _stateful_raw(http, service)
    await upstream.next_call("connected")
    connection = service.app[SERVICE_KEY].registry.sessions()[0]
    connection.abort_transport()
    call = await upstream.next_call("disconnected")
    assert call.headers["X-ASRS-Connection-Id"] == connection.connection_id
    try:
        await http.ws_connect(url)
    except aiohttp.WSServerHandshakeError as exc:
        assert exc.status == 404
    else:
        raise AssertionError("the expired connection should be gone")


@pytest.mark.node
@pytest.mark.parametrize("protocol", ["json", "messagepack"])
async def test_official_client_survives_drop_with_stateful_reconnect(make_service, http,
                                                                     upstream, protocol):
    """The JS client with withStatefulReconnect() rides out a dropped socket transparently."""
    upstream.respond = echo
    service = await make_service(upstream.url)
    url = f"{service.base}/client/?hub=chat"
    async with NodeClient(url, token=service.client_token(), stateful=True, protocol=protocol,
                          transport="WebSockets") as client:
        await _broadcast(http, service, "before")
        await client.wait_message("newMessage", lambda a: a == ["before"])
        state = service.app[SERVICE_KEY]
        (connection,) = state.registry.sessions()
        assert connection.core.buffer is not None
        connection.abort_transport()
        assert await client.invoke("Echo", "across the drop") == "across the drop"
        await _broadcast(http, service, "during")
        await client.wait_message("newMessage", lambda a: a == ["during"])
        await _broadcast(http, service, "after")
        await client.wait_message("newMessage", lambda a: a == ["after"])
        assert client.messages("newMessage") == [["before"], ["during"], ["after"]]
        assert not [e for e in client.events if e["type"] in ("reconnecting", "closed")]
        echoes = [c for c in upstream.calls if c.headers.get("X-ASRS-Event") == "Echo"]
        assert len(echoes) == 1, "a replayed invocation must not reach the upstream twice"


async def _until_detached(connection) -> None:
    while connection.core.state is not State.DETACHED:
        await asyncio.sleep(0)


async def test_stateful_service_acks_client_messages(make_service, http):
    """With stateful reconnect on, the service acknowledges what it processed (Ack)."""
    service = await make_service(keep_alive_interval=60)
    _, ws = await _stateful_raw(http, service)
    await ws.send_str('{"type":1,"target":"fire","arguments":[]}' + RS)
    await ws.send_str('{"type":1,"target":"fire","arguments":[]}' + RS)
    received: list[dict] = []
    while {"type": 8, "sequenceId": 2} not in received:  # bounded by TIMEOUT per frame
        received += await _messages(ws)
    assert all(m["sequenceId"] <= 2 for m in received if m.get("type") == 8)
    await ws.close()


async def test_stateful_reattach_while_upstream_call_in_flight(make_service, http, upstream):
    """A socket dropped during an invoke's upstream call: the completion arrives on the new one."""
    release = asyncio.Event()

    async def slow(call):
        if call.headers["X-ASRS-Event"] == "Slow":
            await release.wait()
            return web.Response(body=b'{"type":3,"invocationId":"1","result":"done"}' + b"\x1e")
        return web.Response(status=200)

    upstream.respond = slow
    service = await make_service(upstream.url, keep_alive_interval=60)
    url, ws = await _stateful_raw(http, service)
    await ws.send_str('{"type":1,"target":"Slow","arguments":[],"invocationId":"1"}' + RS)
    await upstream.next_call("Slow")
    connection = service.app[SERVICE_KEY].registry.sessions()[0]
    connection.abort_transport()
    await asyncio.wait_for(ws.receive(), TIMEOUT)
    ws2 = await http.ws_connect(url)
    await ws2.send_str('{"type":9,"sequenceId":2}' + RS)
    release.set()
    received: list[dict] = []
    while not any(m.get("type") == 3 for m in received):
        received += await _messages(ws2)
    assert received[0] == {"type": 9, "sequenceId": 1}
    assert [m for m in received if m.get("type") == 3] == [
        {"type": 3, "invocationId": "1", "result": "done"}]
    await ws2.close()
