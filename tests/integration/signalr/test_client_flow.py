"""The client side of the service: negotiate, WebSocket, handshake, upstream, completions."""

from __future__ import annotations

import json

import aiohttp
from aiohttp import web

from emulator.contracts import sign_connection_id, verify_signature
from tests.integration.signalr.support import KEY, RS, connect_client
from tests.support.timeouts import TIMEOUT


async def test_negotiate_v1_returns_token_and_websockets(make_service, http):
    """A v1 negotiate answers with a connection id, a separate token and WebSockets, no url."""
    service = await make_service()
    token = service.client_token()
    async with http.post(f"{service.base}/client/negotiate?hub=chat&negotiateVersion=1",
                         headers={"Authorization": f"Bearer {token}"}) as response:
        assert response.status == 200
        body = await response.json()
    assert body["negotiateVersion"] == 1
    assert body["connectionToken"] and body["connectionToken"] != body["connectionId"]
    assert body["availableTransports"][0] == {"transport": "WebSockets",
                                              "transferFormats": ["Text", "Binary"]}
    assert "url" not in body


async def test_negotiate_v0_has_no_connection_token(make_service, http):
    """A Python client negotiating v0 gets only a connection id, usable as the id."""
    service = await make_service()
    token = service.client_token()
    async with http.post(f"{service.base}/client/negotiate?HUB=chat&access_token={token}") as r:
        body = await r.json()
    assert body["negotiateVersion"] == 0
    assert "connectionToken" not in body


async def test_negotiate_refuses_tampered_token_with_401(make_service, http):
    """A token whose signature was altered is refused with 401 and a short reason."""
    service = await make_service()
    token = service.client_token()
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    async with http.post(f"{service.base}/client/negotiate?hub=chat",
                         headers={"Authorization": f"Bearer {tampered}"}) as response:
        assert response.status == 401
        assert "signature" in (await response.json())["message"]


async def test_negotiate_refuses_token_for_another_hub(make_service, http):
    """A token minted for hub 'other' cannot negotiate on hub 'chat'."""
    service = await make_service()
    token = service.client_token("other")
    async with http.post(f"{service.base}/client/negotiate?hub=chat",
                         headers={"Authorization": f"Bearer {token}"}) as response:
        assert response.status == 401


async def test_negotiate_requires_exactly_one_hub(make_service, http):
    """No hub, or two, is a 400."""
    service = await make_service()
    headers = {"Authorization": f"Bearer {service.client_token()}"}
    for query in ("", "?hub=chat&hub=chat"):
        async with http.post(f"{service.base}/client/negotiate{query}", headers=headers) as r:
            assert r.status == 400


async def test_connect_with_unknown_id_gets_404(make_service, http):
    """A WebSocket for an id the service never issued is refused with 404."""
    service = await make_service()
    token = service.client_token()
    try:
        await http.ws_connect(f"{service.base}/client/?hub=chat&id=nope&access_token={token}")
    except aiohttp.WSServerHandshakeError as exc:
        assert exc.status == 404
    else:
        raise AssertionError("the upgrade should have been refused")


async def test_connect_twice_with_same_id_gets_409(make_service, http):
    """A second WebSocket on a connection that already has one is refused with 409."""
    service = await make_service()
    token = service.client_token()
    async with http.post(f"{service.base}/client/negotiate?hub=chat&negotiateVersion=1",
                         headers={"Authorization": f"Bearer {token}"}) as r:
        conn_token = (await r.json())["connectionToken"]
    url = f"{service.base}/client/?hub=chat&id={conn_token}&access_token={token}"
    first = await http.ws_connect(url)
    try:
        await http.ws_connect(url)
    except aiohttp.WSServerHandshakeError as exc:
        assert exc.status == 409
    else:
        raise AssertionError("the second upgrade should have been refused")
    await first.close()


async def test_connect_after_negotiate_ttl_gets_404(make_service, http):
    """A connect that comes after the negotiate entry expired is refused with 404."""
    service = await make_service(negotiate_ttl=0.0)
    token = service.client_token()
    async with http.post(f"{service.base}/client/negotiate?hub=chat&negotiateVersion=1",
                         headers={"Authorization": f"Bearer {token}"}) as r:
        conn_token = (await r.json())["connectionToken"]
    try:
        await http.ws_connect(f"{service.base}/client/?hub=chat&id={conn_token}",
                              headers={"Authorization": f"Bearer {token}"})
    except aiohttp.WSServerHandshakeError as exc:
        assert exc.status == 404
    else:
        raise AssertionError("the upgrade should have been refused")


async def test_connected_upstream_carries_signed_headers(make_service, http, upstream):
    """After the handshake the upstream gets 'connected' with every X-ASRS header, signed."""
    service = await make_service(upstream.url)
    token = service.client_token(user_id="alice", claims={"role": "admin"})
    client = await connect_client(http, service, token=token)
    call = await upstream.next_call("connected")
    headers = call.headers
    assert call.path == "/upstream/chat/connections/connected"
    assert json.loads(call.body) == {"type": 10}
    assert headers["X-ASRS-Connection-Id"] == client.connection_id
    assert headers["X-ASRS-Hub"] == "chat"
    assert headers["X-ASRS-Category"] == "connections"
    assert headers["X-ASRS-User-Id"] == "alice"
    assert "role: admin" in headers["X-ASRS-User-Claims"]
    assert headers["X-ASRS-Signature"] == sign_connection_id(client.connection_id, [KEY])
    assert verify_signature(headers["X-ASRS-Signature"], client.connection_id, [KEY])
    assert "access_token" not in headers["X-ASRS-Client-Query"]
    assert headers["X-ASRS-Client-Query"].startswith("?hub=chat")
    assert headers["Content-Type"] == "application/json"
    await client.ws.close()
    call = await upstream.next_call("disconnected")
    assert json.loads(call.body)["type"] == 11


async def test_invoke_relays_upstream_completion(make_service, http, upstream):
    """invoke() → upstream messages/<target> → the framed completion reaches the caller."""

    async def respond(call):
        if call.headers["X-ASRS-Category"] == "messages":
            invocation = json.loads(call.body)
            body = json.dumps({"type": 3, "invocationId": invocation["invocationId"],
                               "result": invocation["arguments"][0] * 2}) + RS
            return web.Response(body=body.encode(), content_type="application/json")
        return web.Response(status=200)

    upstream.respond = respond
    service = await make_service(upstream.url)
    client = await connect_client(http, service)
    await client.send({"type": 1, "target": "Double", "arguments": [21], "invocationId": "7"})
    completion = await client.receive_until(lambda m: m.get("type") == 3)
    assert completion == {"type": 3, "invocationId": "7", "result": 42}
    call = await upstream.next_call("Double")
    assert call.path == "/upstream/chat/messages/Double"
    assert call.body == b'{"type":1,"invocationId":"7","target":"Double","arguments":[21]}'
    await client.ws.close()


async def test_invoke_maps_upstream_status_to_completion(make_service, http, upstream):
    """204 gives a void completion; 404 gives 'Invocation failed, status code 404'."""
    statuses = {"Void": 204, "Missing": 404}

    async def respond(call):
        return web.Response(status=statuses.get(call.headers["X-ASRS-Event"], 200))

    upstream.respond = respond
    service = await make_service(upstream.url)
    client = await connect_client(http, service)
    await client.send({"type": 1, "target": "Void", "arguments": [], "invocationId": "1"})
    assert await client.receive_until(lambda m: m.get("type") == 3) == {
        "type": 3, "invocationId": "1"}
    await client.send({"type": 1, "target": "Missing", "arguments": [], "invocationId": "2"})
    assert await client.receive_until(lambda m: m.get("type") == 3) == {
        "type": 3, "invocationId": "2", "error": "Invocation failed, status code 404"}
    await client.ws.close()


async def test_invoke_with_unreachable_upstream_gets_error_completion(make_service, http):
    """An upstream that refuses connections yields an error completion, not a dropped client."""
    service = await make_service("http://127.0.0.1:9")
    client = await connect_client(http, service)
    await client.send({"type": 1, "target": "Echo", "arguments": [], "invocationId": "3"})
    completion = await client.receive_until(lambda m: m.get("type") == 3)
    assert completion["error"].startswith("Invocation failed")
    await client.send({"type": 6})
    assert not client.ws.closed
    await client.ws.close()


async def test_invoke_without_upstream_gets_error_completion(make_service, http):
    """With no upstream rule the caller's promise still settles, with an error."""
    service = await make_service()
    client = await connect_client(http, service)
    await client.send({"type": 1, "target": "Echo", "arguments": [], "invocationId": "4"})
    completion = await client.receive_until(lambda m: m.get("type") == 3)
    assert "no upstream" in completion["error"]
    await client.ws.close()


async def test_send_without_invocation_id_gets_no_completion(make_service, http, upstream):
    """A non-blocking send is forwarded upstream and never answered."""
    service = await make_service(upstream.url)
    client = await connect_client(http, service)
    await client.send({"type": 1, "target": "Fire", "arguments": ["x"]})
    await upstream.next_call("Fire")
    await client.send({"type": 1, "target": "Marker", "arguments": [], "invocationId": "9"})
    message = await client.receive()
    assert message["invocationId"] == "9"
    await client.ws.close()


async def test_malformed_message_closes_only_that_connection(make_service, http):
    """Garbage from one client gets it a Close with an error; another client is unaffected."""
    service = await make_service()
    bad = await connect_client(http, service)
    good = await connect_client(http, service)
    await bad.ws.send_str("{not json" + RS)
    close = await bad.receive()
    assert close["type"] == 7 and "JSON" in close["error"]
    frame = await bad.ws.receive(timeout=TIMEOUT)
    assert frame.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    await good.send({"type": 1, "target": "Echo", "arguments": [], "invocationId": "1"})
    assert (await good.receive())["invocationId"] == "1"
    await good.ws.close()


async def test_bad_handshake_gets_error_response(make_service, http):
    """An unknown protocol in the handshake is answered with {"error": ...} and a close."""
    service = await make_service()
    token = service.client_token()
    ws = await http.ws_connect(f"{service.base}/client/?hub=chat&access_token={token}")
    await ws.send_str('{"protocol":"xml","version":1}' + RS)
    frame = await ws.receive(timeout=TIMEOUT)
    assert json.loads(frame.data.rstrip(RS)) == {
        "error": "Requested protocol 'xml' is not available."}
    frame = await ws.receive(timeout=TIMEOUT)
    assert frame.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_handshake_timeout_closes_connection(make_service, http):
    """A client that never sends its handshake is told so and closed."""
    service = await make_service(handshake_timeout=0.2)
    token = service.client_token()
    ws = await http.ws_connect(f"{service.base}/client/?hub=chat&access_token={token}")
    frame = await ws.receive(timeout=TIMEOUT)
    assert json.loads(frame.data.rstrip(RS)) == {"error": "Handshake was canceled."}


async def test_service_pings_after_outbound_silence(make_service, http):
    """With nothing to say, the service sends a Ping every keep-alive interval."""
    service = await make_service(keep_alive_interval=0.1)
    client = await connect_client(http, service)
    assert await client.receive(skip_pings=False) == {"type": 6}
    await client.ws.close()


async def test_silent_client_is_dropped_after_client_timeout(make_service, http):
    """A client that sends nothing for client_timeout gets a Close and is disconnected."""
    service = await make_service(client_timeout=0.3)
    client = await connect_client(http, service)
    close = await client.receive()
    assert close["type"] == 7 and "timeout" in close["error"].lower()


async def test_direct_websocket_without_negotiate(make_service, http, upstream):
    """Python clients open the WebSocket straight from the redirect with a bearer header."""
    service = await make_service(upstream.url)
    client = await connect_client(http, service, negotiate=False)
    call = await upstream.next_call("connected")
    assert call.headers["X-ASRS-Connection-Id"]
    await client.ws.close()


async def test_websocket_refuses_missing_token_with_401(make_service, http):
    """Without any token the upgrade is refused with 401."""
    service = await make_service()
    try:
        await http.ws_connect(f"{service.base}/client/?hub=chat")
    except aiohttp.WSServerHandshakeError as exc:
        assert exc.status == 401
    else:
        raise AssertionError("the upgrade should have been refused")


async def test_cors_preflight_echoes_origin_without_auth(make_service, http):
    """A browser preflight from an allowed origin is allowed with credentials and no token."""
    service = await make_service(allowed_origins=("http://localhost:7071",))
    headers = {"Origin": "http://localhost:7071", "Access-Control-Request-Method": "POST",
               "Access-Control-Request-Headers": "authorization,x-requested-with"}
    async with http.options(f"{service.base}/client/negotiate?hub=chat", headers=headers) as r:
        assert r.status == 204
        assert r.headers["Access-Control-Allow-Origin"] == "http://localhost:7071"
        assert r.headers["Access-Control-Allow-Credentials"] == "true"
        assert r.headers["Access-Control-Allow-Headers"] == "authorization,x-requested-with"
        assert "DELETE" in r.headers["Access-Control-Allow-Methods"]
        assert "Origin" in r.headers["Vary"]
    token = service.client_token()
    async with http.post(f"{service.base}/client/negotiate?hub=chat",
                         headers={"Origin": "http://localhost:7071",
                                  "Authorization": f"Bearer {token}"}) as r:
        assert r.status == 200
        assert r.headers["Access-Control-Allow-Origin"] == "http://localhost:7071"
        assert r.headers["Access-Control-Allow-Credentials"] == "true"


async def test_oversized_message_closes_with_error(make_service, http):
    """A message over max_message_size gets the client a Close naming the limit."""
    service = await make_service(max_message_size=100)
    client = await connect_client(http, service)
    await client.send({"type": 1, "target": "x", "arguments": ["a" * 200]})
    close = await client.receive()
    assert close == {"type": 7, "error": "message larger than 100 bytes"}


async def test_websocket_declines_per_message_compression(make_service, http):
    """A client that offers permessage-deflate (as browsers do) gets plain frames, as from
    ASP.NET Core SignalR: no extension in the upgrade answer, no compressed frame after it."""
    service = await make_service()
    token = service.client_token("chat")
    async with http.post(f"{service.base}/client/negotiate?hub=chat&negotiateVersion=1",
                         headers={"Authorization": f"Bearer {token}"}) as response:
        body = await response.json()
    ws = await http.ws_connect(
        f"{service.base}/client/?hub=chat&id={body['connectionToken']}&access_token={token}",
        compress=15)
    try:
        assert "Sec-WebSocket-Extensions" not in ws._response.headers
        assert ws.compress == 0
        await ws.send_str('{"protocol":"json","version":1}' + RS)
        frame = await ws.receive(timeout=TIMEOUT)
        assert frame.type == aiohttp.WSMsgType.TEXT and frame.data == "{}" + RS
    finally:
        await ws.close()
