"""Hostile HTTP input against the whole stack: forged upstream calls, bad REST
tokens, oversized bodies, expired or tampered client tokens.

Each is refused with the right status, is logged, runs no function and sends no message: a
bystander chat client connected through the app sees nothing, and still chats afterwards.
"""

from __future__ import annotations

import json
import logging
import time

import aiohttp
import pytest

from emulator.contracts import client_audience, issue_token, sign_connection_id
from tests.hardening.chat_client import ChatClient, HubError, negotiate_with_app
from tests.hardening.conftest import StackFactory
from tests.hardening.local_stack import KEY, LocalStack

ATTACK = "forged message"


async def _bystander_saw_nothing(stack: LocalStack, http: aiohttp.ClientSession,
                                 bystander: ChatClient) -> None:
    """A genuine message sent now arrives, and the forged one never did."""
    sender = await ChatClient.connect(http, stack.api_url, "genuine")
    await sender.invoke("broadcast", "genuine message")
    await bystander.wait_for_message("genuine message")
    assert ATTACK not in [m.get("text") for m in bystander.messages()]
    await sender.close()


def _logged(caplog: pytest.LogCaptureFixture, *fragments: str) -> bool:
    return any(all(f in record.getMessage() for f in fragments) for record in caplog.records)


# -- upstream (webhook) calls without a valid signature ------------------------------------------

def _webhook_headers(connection_id: str, signature: str | None) -> dict[str, str]:
    headers = {"X-ASRS-Connection-Id": connection_id, "X-ASRS-Hub": "chat",
               "X-ASRS-Category": "messages", "X-ASRS-Event": "broadcast",
               "X-ASRS-User-Id": "mallory", "Content-Type": "application/json"}
    if signature is not None:
        headers["X-ASRS-Signature"] = signature
    return headers


@pytest.mark.parametrize(("case", "signature"), [
    ("none", None),
    ("empty", ""),
    ("wrong key", sign_connection_id("victim-connection", ["not-the-access-key"])),
    ("other connection", sign_connection_id("another-connection", [KEY])),
    ("garbage", "sha256=zz,sha256=" + "0" * 64),
])
async def test_webhook_refuses_unsigned_upstream_calls(
    make_local_stack: StackFactory, http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture, case: str, signature: str | None,
) -> None:
    """A forged upstream call is a 401: no function runs, no one receives anything."""
    caplog.set_level(logging.INFO)
    stack = await make_local_stack()
    bystander = await ChatClient.connect(http, stack.api_url, "bystander")
    body = json.dumps({"type": 1, "invocationId": "1", "target": "broadcast",
                       "arguments": [ATTACK]})
    async with http.post(f"{stack.host_url}/runtime/webhooks/signalr", data=body,
                         headers=_webhook_headers("victim-connection", signature)) as response:
        assert response.status == 401, (case, await response.text())
    assert _logged(caplog, "refused with 401", "Signature validation failed")
    assert not _logged(caplog, "Executing 'Functions.broadcast'"), "the function ran"
    await _bystander_saw_nothing(stack, http, bystander)
    await bystander.close()


# -- REST API calls without a valid token ---------------------------------------------------------

def _rest_token(stack: LocalStack, path: str, *, key: str = KEY, now: float | None = None,
                audience: str | None = None) -> str:
    return issue_token(audience=audience or f"http://127.0.0.1{path}", key=key,
                       now=time.time() if now is None else now, lifetime=3600)


@pytest.mark.parametrize("case", ["no token", "expired", "wrong audience", "wrong key",
                                  "not a JWT"])
async def test_rest_refuses_bad_tokens(
    make_local_stack: StackFactory, http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture, case: str,
) -> None:
    """A REST broadcast with no valid token is a 401 and reaches no one."""
    caplog.set_level(logging.INFO)
    stack = await make_local_stack()
    bystander = await ChatClient.connect(http, stack.api_url, "bystander")
    path = "/api/v1/hubs/chat"
    token = {
        "no token": None,
        "expired": _rest_token(stack, path, now=time.time() - 7200),
        "wrong audience": _rest_token(stack, path, audience="http://127.0.0.1/api/v1/hubs/other"),
        "wrong key": _rest_token(stack, path, key="some-other-key-0123456789abcdefghijkl"),
        "not a JWT": "definitely.not.a-jwt",
    }[case]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    message = {"target": "newMessage", "arguments": [{"text": ATTACK, "sender": "x"}]}
    async with http.post(stack.service_url + path, json=message, headers=headers) as response:
        assert response.status == 401, (case, await response.text())
    assert _logged(caplog, "refused POST", path)
    await _bystander_saw_nothing(stack, http, bystander)
    await bystander.close()


async def test_rest_refuses_body_over_one_megabyte(
    make_local_stack: StackFactory, http: aiohttp.ClientSession
) -> None:
    """A REST body over 1 MB is a 413 even with a valid token, and reaches no one."""
    stack = await make_local_stack()
    bystander = await ChatClient.connect(http, stack.api_url, "bystander")
    path = "/api/v1/hubs/chat"
    message = {"target": "newMessage", "arguments": [{"text": ATTACK, "pad": "x" * (1 << 20)}]}
    headers = {"Authorization": f"Bearer {_rest_token(stack, path)}"}
    async with http.post(stack.service_url + path, json=message, headers=headers) as response:
        assert response.status == 413
    await _bystander_saw_nothing(stack, http, bystander)
    await bystander.close()


# -- client tokens ---------------------------------------------------------------------------------

def _tampered(token: str) -> str:
    """Change the user in the payload, keep the signature: what an impersonator would try."""
    header, payload, signature = token.split(".")
    import base64

    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["asrs.s.uid"] = "admin"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


async def _client_token(stack: LocalStack, http: aiohttp.ClientSession, case: str) -> str:
    if case == "expired":
        return issue_token(audience=client_audience("http://127.0.0.1", "chat"), key=KEY,
                           now=time.time() - 7200, lifetime=3600, user_id="mallory")
    if case == "wrong key":
        return issue_token(audience=client_audience("http://127.0.0.1", "chat"),
                           key="not-the-access-key-0123456789abcdefghijkl", now=time.time(),
                           user_id="mallory")
    info = await negotiate_with_app(http, stack.api_url, "mallory")
    return _tampered(info["accessToken"])


@pytest.mark.parametrize("case", ["expired", "tampered", "wrong key"])
async def test_service_refuses_bad_client_token_on_negotiate(
    make_local_stack: StackFactory, http: aiohttp.ClientSession, case: str
) -> None:
    stack = await make_local_stack()
    token = await _client_token(stack, http, case)
    async with http.post(f"{stack.service_url}/client/negotiate?hub=chat&negotiateVersion=1",
                         headers={"Authorization": f"Bearer {token}"}) as response:
        assert response.status == 401, await response.text()


@pytest.mark.parametrize("case", ["expired", "tampered", "wrong key"])
async def test_service_refuses_bad_client_token_on_connect(
    make_local_stack: StackFactory, http: aiohttp.ClientSession, case: str
) -> None:
    """A bad token on the WebSocket URL itself (skipping negotiate) is refused before upgrade."""
    stack = await make_local_stack()
    bystander = await ChatClient.connect(http, stack.api_url, "bystander")
    token = await _client_token(stack, http, case)
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await http.ws_connect(f"{stack.service_url}/client/?hub=chat&access_token={token}")
    assert refused.value.status == 401
    # With a valid negotiate but a bad token on connect, too.
    good = await negotiate_with_app(http, stack.api_url, "mallory")
    with pytest.raises(HubError):
        await ChatClient.connect_to_service(http, good["url"], token)
    await _bystander_saw_nothing(stack, http, bystander)
    assert not any(r.target == "newConnection" and "mallory" in json.dumps(r.arguments)
                   for r in bystander.received)
    await bystander.close()



async def test_rest_message_json_clients_cannot_receive_skips_them_only(
    make_local_stack: StackFactory, http: aiohttp.ClientSession
) -> None:
    """A MessagePack REST body holding NaN or bytes is accepted; JSON clients are skipped for it
    (it has no JSON form), stay connected, and receive the next message."""
    import msgpack

    stack = await make_local_stack()
    bystander = await ChatClient.connect(http, stack.api_url, "bystander")
    path = "/api/v1/hubs/chat"
    headers = {"Authorization": f"Bearer {_rest_token(stack, path)}",
               "Content-Type": "application/x-msgpack"}
    for odd in (float("nan"), b"\x00\xff"):
        body = msgpack.packb({"target": "newMessage", "arguments": [{"text": ATTACK}, odd]},
                             use_bin_type=True)
        async with http.post(stack.service_url + path, data=body, headers=headers) as response:
            assert response.status == 202, await response.text()
    await _bystander_saw_nothing(stack, http, bystander)
    assert not bystander.closed.is_set()
    await bystander.close()
