"""The REST API as the Functions output binding uses it."""

from __future__ import annotations

import aiohttp
import msgpack

from tests.integration.signalr.support import connect_client


async def _post(http, service, path, body, *, token=None, **kwargs):
    token = token or service.rest_token(path.split("?")[0])
    async with http.post(service.base + path, json=body,
                         headers={"Authorization": f"Bearer {token}"}, **kwargs) as response:
        return response.status, await response.read(), response.headers


async def test_rest_broadcast_reaches_two_clients(make_service, http):
    """POST /api/hubs/chat/:send delivers one Invocation to every client of the hub."""
    service = await make_service()
    first = await connect_client(http, service)
    second = await connect_client(http, service)
    status, _, _ = await _post(http, service, "/api/hubs/chat/:send?api-version=2022-06-01",
                               {"Target": "newMessage", "Arguments": [{"text": "hi"}]})
    assert status == 202
    for client in (first, second):
        assert await client.receive() == {"type": 1, "target": "newMessage",
                                          "arguments": [{"text": "hi"}]}
        await client.ws.close()


async def test_rest_broadcast_honours_excluded(make_service, http):
    """Excluded connection ids do not receive the broadcast."""
    service = await make_service()
    first = await connect_client(http, service)
    second = await connect_client(http, service)
    status, _, _ = await _post(
        http, service, f"/api/v1/hubs/chat?excluded={first.connection_id}",
        {"target": "a", "arguments": []})
    assert status == 202
    await _post(http, service, f"/api/hubs/chat/connections/{first.connection_id}/:send",
                {"target": "b", "arguments": []})
    assert (await first.receive())["target"] == "b"
    assert (await second.receive())["target"] == "a"


async def test_rest_send_to_group_after_add(make_service, http):
    """A connection added to a group gets group messages; a removed one does not."""
    service = await make_service()
    member = await connect_client(http, service)
    other = await connect_client(http, service)
    path = f"/api/hubs/chat/groups/room/connections/{member.connection_id}"
    async with http.put(service.base + path, headers={
            "Authorization": f"Bearer {service.rest_token(path)}"}) as r:
        assert r.status == 200
    await _post(http, service, "/api/hubs/chat/groups/room/:send",
                {"target": "g", "arguments": [1]})
    await _post(http, service, "/api/hubs/chat/:send", {"target": "all", "arguments": []})
    assert (await member.receive())["target"] == "g"
    assert (await other.receive())["target"] == "all"


async def test_rest_send_to_user(make_service, http):
    """Messages to a user reach every connection whose token carries that user id."""
    service = await make_service()
    alice = await connect_client(http, service, token=service.client_token(user_id="alice"))
    status, _, _ = await _post(http, service, "/api/hubs/chat/users/alice/:send",
                               {"target": "dm", "arguments": ["x"]})
    assert status == 202
    assert await alice.receive() == {"type": 1, "target": "dm", "arguments": ["x"]}


async def test_rest_refuses_tampered_token_with_401(make_service, http):
    """A REST call with a tampered token is refused."""
    service = await make_service()
    path = "/api/hubs/chat/:send"
    token = service.rest_token(path)
    status, _, _ = await _post(http, service, path, {"target": "x"}, token=token[:-3] + "abc")
    assert status == 401


async def test_rest_refuses_token_for_another_path(make_service, http):
    """A REST token minted for another URL is refused."""
    service = await make_service()
    token = service.rest_token("/api/hubs/other/:send")
    status, _, _ = await _post(http, service, "/api/hubs/chat/:send", {"target": "x"},
                               token=token)
    assert status == 401


async def test_rest_rejects_invalid_body_and_names(make_service, http):
    """A body without target, or an invalid hub name, is a 400."""
    service = await make_service()
    status, _, _ = await _post(http, service, "/api/hubs/chat/:send", {"arguments": []})
    assert status == 400
    status, _, _ = await _post(http, service, "/api/hubs/9bad/:send", {"target": "x"})
    assert status == 400


async def test_rest_rejects_body_over_1mb_with_413(make_service, http):
    """A body over 1 MB is refused with 413."""
    service = await make_service()
    status, _, _ = await _post(http, service, "/api/hubs/chat/:send",
                               {"target": "x", "arguments": ["a" * (1024 * 1024)]})
    assert status == 413


async def test_rest_health_is_anonymous(make_service, http):
    """Health answers 200 without a token."""
    service = await make_service()
    async with http.head(service.base + "/api/health") as r:
        assert r.status == 200


async def test_rest_existence_check_sets_error_code(make_service, http):
    """Checking an unknown connection gives 404 with x-ms-error-code."""
    service = await make_service()
    path = "/api/hubs/chat/connections/nope"
    async with http.head(service.base + path, headers={
            "Authorization": f"Bearer {service.rest_token(path)}"}) as r:
        assert r.status == 404
        assert r.headers["x-ms-error-code"] == "Warning.Connection.NotExisted"


async def test_rest_close_connection_sends_close_message(make_service, http):
    """DELETE on a connection sends it a Close with the reason and allowReconnect."""
    service = await make_service()
    client = await connect_client(http, service)
    path = f"/api/hubs/chat/connections/{client.connection_id}"
    async with http.delete(service.base + path + "?reason=bye", headers={
            "Authorization": f"Bearer {service.rest_token(path)}"}) as r:
        assert r.status == 200
    assert await client.receive() == {"type": 7, "error": "bye", "allowReconnect": True}
    frame = await client.ws.receive()
    assert frame.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_rest_preencoded_binary_body_reaches_client_verbatim(make_service, http):
    """The Management SDK's octet-stream form is delivered with the framing it supplied."""
    service = await make_service()
    client = await connect_client(http, service)
    frame = b'{"type":1,"target":"pre","arguments":["encoded"]}\x1e'
    path = "/api/hubs/chat/:send"
    async with http.post(service.base + path, data=msgpack.packb({"json": frame}), headers={
            "Authorization": f"Bearer {service.rest_token(path)}",
            "Content-Type": "application/octet-stream"}) as r:
        assert r.status == 202
    assert await client.receive() == {"type": 1, "target": "pre", "arguments": ["encoded"]}
