"""A connection belongs to the user who opened it.

With negotiate version 0 the connection's ``id`` is its public connection id (every chat message
carries it), so the id alone must not let anyone else poll, send, close or reattach it: each
request must carry a token for the same user. The secret connection token never leaves the
service, not even in ``X-ASRS-Client-Query``.
"""

from __future__ import annotations

import json
import time

import aiohttp
import pytest

from emulator.contracts import client_audience, issue_token
from tests.hardening.conftest import StackFactory
from tests.hardening.local_stack import KEY, LocalStack
from tests.support.timeouts import TIMEOUT

RS = "\x1e"


def _token(user: str) -> str:
    return issue_token(audience=client_audience("http://127.0.0.1", "chat"), key=KEY,
                       now=time.time(), user_id=user)


async def _negotiate(http: aiohttp.ClientSession, stack: LocalStack, user: str,
                     version: int = 0, stateful: bool = False) -> dict:
    query = f"hub=chat&negotiateVersion={version}"
    if stateful:
        query += "&useStatefulReconnect=true"
    async with http.post(f"{stack.service_url}/client/negotiate?{query}",
                         headers={"Authorization": f"Bearer {_token(user)}"}) as response:
        assert response.status == 200
        return await response.json()


async def _long_polling(http: aiohttp.ClientSession, stack: LocalStack, user: str) -> str:
    """Alice's long-polling connection, past its handshake; its id (version 0: public)."""
    body = await _negotiate(http, stack, user)
    cid = body["connectionId"]
    url = _url(stack, cid, user)
    async with http.get(url) as first:
        assert first.status == 200
    async with http.post(url, data='{"protocol":"json","version":1}' + RS) as sent:
        assert sent.status == 200
    async with http.get(url) as answer:
        assert (await answer.text()).startswith("{}" + RS)
    return cid


def _url(stack: LocalStack, cid: str, user: str) -> str:
    return f"{stack.service_url}/client/?hub=chat&id={cid}&access_token={_token(user)}"


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
async def test_service_refuses_requests_on_another_users_connection(
    make_local_stack: StackFactory, http: aiohttp.ClientSession, method: str
) -> None:
    """Mallory, with a valid token of her own, cannot poll, send as or close Alice's
    connection: 403, and Alice's connection goes on."""
    stack = await make_local_stack()
    cid = await _long_polling(http, stack, "alice")
    data = '{"type":1,"target":"broadcast","arguments":["as alice"]}' + RS
    async with http.request(method, _url(stack, cid, "mallory"),
                            data=data if method == "POST" else None) as response:
        assert response.status == 403
    async with http.post(_url(stack, cid, "alice"), data='{"type":6}' + RS) as response:
        assert response.status == 200, "Alice's connection is still hers"


async def test_service_refuses_connect_with_another_users_negotiate_entry(
    make_local_stack: StackFactory, http: aiohttp.ClientSession
) -> None:
    """A negotiate answer is claimed only with a token of the user who negotiated."""
    stack = await make_local_stack()
    body = await _negotiate(http, stack, "alice", version=1)
    token = body["connectionToken"]
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await http.ws_connect(_url(stack, token, "mallory"))
    assert refused.value.status == 403
    ws = await http.ws_connect(_url(stack, token, "alice"))  # still hers to claim
    await ws.close()


async def test_service_refuses_a_reattach_with_another_users_token(
    make_local_stack: StackFactory, http: aiohttp.ClientSession
) -> None:
    """Stateful reconnect: only the owner may take over a dropped connection."""
    stack = await make_local_stack()
    body = await _negotiate(http, stack, "alice", version=1, stateful=True)
    url = _url(stack, body["connectionToken"], "alice")
    ws = await http.ws_connect(url)
    await ws.send_str('{"protocol":"json","version":2}' + RS)
    assert (await ws.receive(timeout=TIMEOUT)).data.startswith("{}")
    from emulator.signalr.appkeys import SERVICE_KEY

    (session,) = stack.service_app[SERVICE_KEY].registry.sessions()
    session.abort_transport()  # the network drops Alice's socket
    await ws.receive(timeout=TIMEOUT)
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await http.ws_connect(_url(stack, body["connectionToken"], "mallory"))
    assert refused.value.status == 403
    again = await http.ws_connect(url)
    frame = await again.receive(timeout=TIMEOUT)
    assert json.loads(frame.data.split(RS)[0]) == {"type": 9, "sequenceId": 1}
    await again.close()


async def test_service_never_forwards_the_connection_token_upstream(
    make_local_stack: StackFactory, http: aiohttp.ClientSession
) -> None:
    """The functions see the client's query without ``id`` (the secret) or the access token."""
    stack = await make_local_stack()
    seen: list[str] = []
    from emulator.signalr.appkeys import SERVICE_KEY

    service = stack.service_app[SERVICE_KEY]
    original = service.dispatcher.events_client.post

    async def recording(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        seen.append(headers.get("X-ASRS-Client-Query", ""))
        return await original(url, body, headers)

    service.dispatcher.events_client.post = recording  # type: ignore[method-assign]
    body = await _negotiate(http, stack, "alice", version=1)
    secret = body["connectionToken"]
    ws = await http.ws_connect(_url(stack, secret, "alice") + "&custom=kept")
    await ws.send_str('{"protocol":"json","version":1}' + RS)
    await ws.receive(timeout=TIMEOUT)
    await ws.close()
    assert seen and all(secret not in query and "access_token" not in query for query in seen)
    assert "custom=kept" in seen[0]
