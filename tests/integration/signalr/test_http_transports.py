"""Server-Sent Events and long polling on the wire, with the status codes the client expects."""

from __future__ import annotations

import asyncio

from aiohttp import web

from tests.integration.signalr.support import RS
from tests.support.timeouts import TIMEOUT

HANDSHAKE = '{"protocol":"json","version":1}' + RS


async def _negotiate(http, service, token):
    async with http.post(f"{service.base}/client/negotiate?hub=chat&negotiateVersion=1",
                         headers={"Authorization": f"Bearer {token}"}) as r:
        return await r.json()


async def test_long_polling_lifecycle_status_codes(make_service, http, upstream):
    """First poll 200 empty, POST 200, poll returns data, DELETE 202, then 404."""
    service = await make_service(upstream.url)
    token = service.client_token()
    body = await _negotiate(http, service, token)
    url = f"{service.base}/client/?hub=chat&id={body['connectionToken']}"
    auth = {"Authorization": f"Bearer {token}"}
    async with http.get(url + "&_=1", headers=auth) as r:
        assert (r.status, await r.read()) == (200, b"")
    async with http.post(url, data=HANDSHAKE, headers=auth) as r:
        assert r.status == 200
    async with http.get(url + "&_=2", headers=auth) as r:
        assert (r.status, await r.read()) == (200, b"{}" + RS.encode())
    await upstream.next_call("connected")
    async with http.delete(url, headers=auth) as r:
        assert r.status == 202
    await upstream.next_call("disconnected")
    async with http.get(url + "&_=3", headers=auth) as r:
        assert r.status == 404
    async with http.post(url, data='{"type":6}' + RS, headers=auth) as r:
        assert r.status == 404


async def test_long_polling_newer_poll_ends_older_with_204(make_service, http):
    """A second poll while one is pending answers the older one with 204."""
    service = await make_service()
    token = service.client_token()
    body = await _negotiate(http, service, token)
    url = f"{service.base}/client/?hub=chat&id={body['connectionToken']}"
    auth = {"Authorization": f"Bearer {token}"}
    async with http.get(url, headers=auth) as r:
        assert r.status == 200
    async with http.post(url, data=HANDSHAKE, headers=auth) as r:
        assert r.status == 200
    async with http.get(url, headers=auth) as r:
        assert await r.read() == b"{}" + RS.encode()
    first = asyncio.ensure_future(http.get(url, headers=auth))
    await asyncio.wait_for(_poll_pending(service), TIMEOUT)
    second = asyncio.ensure_future(http.get(url, headers=auth))
    response = await asyncio.wait_for(first, TIMEOUT)
    assert response.status == 204
    response.release()
    await asyncio.wait_for(_poll_pending(service), TIMEOUT)
    path = "/api/hubs/chat/:send"
    async with http.post(service.base + path, json={"target": "t", "arguments": []},
                         headers={"Authorization": f"Bearer {service.rest_token(path)}"}) as r:
        assert r.status == 202
    response = await asyncio.wait_for(second, TIMEOUT)
    assert response.status == 200
    assert await response.read() == b'{"type":1,"target":"t","arguments":[]}' + RS.encode()


async def _poll_pending(service) -> None:
    """Until the service holds a long poll (checked each loop turn, bounded by the caller)."""
    while not any(s.attachment is not None and s.attachment.wakeup.waiting
                  for s in _service(service).registry.sessions()):
        await asyncio.sleep(0)


def _service(service):
    from emulator.signalr.app import SERVICE_KEY

    return service.app[SERVICE_KEY]


async def test_http_transports_require_id_and_known_connection(make_service, http):
    """GET/POST without id is a 400; with an unknown id a 404."""
    service = await make_service()
    auth = {"Authorization": f"Bearer {service.client_token()}"}
    async with http.get(f"{service.base}/client/?hub=chat", headers=auth) as r:
        assert r.status == 400
    async with http.get(f"{service.base}/client/?hub=chat&id=zz",
                        headers={**auth, "Accept": "text/event-stream"}) as r:
        assert r.status == 404
    async with http.post(f"{service.base}/client/?hub=chat&id=zz", data="x", headers=auth) as r:
        assert r.status == 404


async def test_post_to_websocket_connection_gets_405(make_service, http):
    """Sending by POST to a connection that uses a WebSocket is refused with 405."""
    service = await make_service()
    token = service.client_token()
    body = await _negotiate(http, service, token)
    ws = await http.ws_connect(
        f"{service.base}/client/?hub=chat&id={body['connectionToken']}&access_token={token}")
    async with http.post(f"{service.base}/client/?hub=chat&id={body['connectionToken']}",
                         data='{"type":6}' + RS,
                         headers={"Authorization": f"Bearer {token}"}) as r:
        assert r.status == 405
    await ws.close()


async def test_sse_streams_events_and_refuses_messagepack(make_service, http):
    """SSE starts with ':' then sends each message as a data event; MessagePack is refused."""
    service = await make_service()
    token = service.client_token()
    body = await _negotiate(http, service, token)
    url = f"{service.base}/client/?hub=chat&id={body['connectionToken']}"
    async with http.get(url + f"&access_token={token}",
                        headers={"Accept": "text/event-stream"}) as stream:
        assert stream.headers["Content-Type"] == "text/event-stream"
        assert await stream.content.readline() == b":\r\n"
        async with http.post(url, data=HANDSHAKE,
                             headers={"Authorization": f"Bearer {token}"}) as r:
            assert r.status == 200
        assert await stream.content.readline() == b"data: {}\x1e\r\n"
        assert await stream.content.readline() == b"\r\n"
    body = await _negotiate(http, service, token)
    url = f"{service.base}/client/?hub=chat&id={body['connectionToken']}"
    async with http.get(url + f"&access_token={token}",
                        headers={"Accept": "text/event-stream"}) as stream:
        await stream.content.readline()
        async with http.post(url, data='{"protocol":"messagepack","version":1}' + RS,
                             headers={"Authorization": f"Bearer {token}"}):
            pass
        line = await stream.content.readline()
        assert b"Cannot use the 'messagepack' protocol" in line


async def test_websocket_handshake_in_binary_frame_selects_messagepack(make_service, http):
    """signalrcore sends its MessagePack handshake in a binary frame; replies are binary."""
    service = await make_service()
    token = service.client_token()
    ws = await http.ws_connect(f"{service.base}/client/?hub=chat",
                               headers={"Authorization": f"Bearer {token}"})
    await ws.send_bytes(b'{"protocol":"messagepack","version":1}\x1e')
    frame = await ws.receive(timeout=TIMEOUT)
    assert frame.data == b"{}\x1e"
    await ws.send_bytes(b"\x02\x91\x06")
    await ws.close()


async def test_concurrent_post_gets_409(make_service, http, upstream):
    """A second send while the first is still being handled is refused with 409."""
    release = asyncio.Event()

    async def slow(call):
        if call.headers["X-ASRS-Event"] == "Slow":
            await release.wait()
        return web.Response(status=204)

    upstream.respond = slow
    service = await make_service(upstream.url)
    token = service.client_token()
    body = await _negotiate(http, service, token)
    url = f"{service.base}/client/?hub=chat&id={body['connectionToken']}"
    auth = {"Authorization": f"Bearer {token}"}
    async with http.get(url, headers=auth):
        pass
    async with http.post(url, data=HANDSHAKE, headers=auth) as r:
        assert r.status == 200
    first = asyncio.ensure_future(http.post(
        url, data='{"type":1,"target":"Slow","arguments":[]}' + RS, headers=auth))
    await upstream.next_call("Slow")
    async with http.post(url, data='{"type":6}' + RS, headers=auth) as r:
        assert r.status == 409
    release.set()
    response = await asyncio.wait_for(first, TIMEOUT)
    assert response.status == 200
    response.release()


async def test_long_polling_client_that_stops_polling_is_dropped(make_service, http, upstream):
    """A long-polling client that neither polls nor sends for client_timeout is disconnected."""
    service = await make_service(upstream.url, client_timeout=0.3)
    token = service.client_token()
    body = await _negotiate(http, service, token)
    url = f"{service.base}/client/?hub=chat&id={body['connectionToken']}"
    auth = {"Authorization": f"Bearer {token}"}
    async with http.get(url, headers=auth):
        pass
    async with http.post(url, data=HANDSHAKE, headers=auth):
        pass
    call = await upstream.next_call("disconnected")
    assert "timeout" in call.body.decode().lower()


async def test_cors_headers_on_sse_and_error_responses(make_service, http):
    """Actual responses (an SSE stream, a 401) carry the CORS headers for the page's origin."""
    service = await make_service(allowed_origins=("http://localhost:7071",))
    token = service.client_token()
    origin = {"Origin": "http://localhost:7071"}
    async with http.post(f"{service.base}/client/negotiate?hub=chat", headers=origin) as r:
        assert r.status == 401
        assert r.headers["Access-Control-Allow-Origin"] == "http://localhost:7071"
    body = await _negotiate(http, service, token)
    url = (f"{service.base}/client/?hub=chat&id={body['connectionToken']}"
           f"&access_token={token}")
    async with http.get(url, headers={**origin, "Accept": "text/event-stream"}) as stream:
        assert stream.headers["Access-Control-Allow-Credentials"] == "true"
        assert stream.headers["Vary"] == "Origin"
