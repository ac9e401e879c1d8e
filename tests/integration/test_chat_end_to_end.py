"""The chat through the whole offline stack: official JS clients, real HTTP and WebSockets."""

from __future__ import annotations

import json

import aiohttp
import pytest

from emulator.contracts import sign_connection_id
from tests.conftest import require_tool
from tests.support.node_client import NodeClient, NodeClientError
from tests.support.stack import RunningStack

pytestmark = pytest.mark.node


@pytest.fixture(autouse=True)
def _node() -> None:
    require_tool("node", "Node.js")


async def test_chat_two_clients_exchange_broadcasts(stack: RunningStack) -> None:
    """Alice and Bob, each through /api/negotiate, see each other's messages."""
    listen = "newMessage,newConnection,userJoined"
    async with (
        NodeClient(stack.api_url, name="alice", listen=listen) as alice,
        NodeClient(stack.api_url, name="bob", listen=listen) as bob,
    ):
        # Bob's connection is told its own id, as the original sample's page expects; Alice
        # hears that Bob arrived.
        [own] = await bob.wait_message("newConnection")
        assert own == {"connectionId": bob.connection_id, "authentication": False,
                       "ConnectionId": bob.connection_id, "Authentication": False}
        await alice.wait_message("userJoined", lambda args: args[0]["user"] == "bob")
        assert not [a for a in alice.messages("newConnection")
                    if a[0]["connectionId"] == bob.connection_id]

        message_id = await alice.invoke("broadcast", "  hello bob  ")
        for client in (alice, bob):
            [message] = await client.wait_message("newMessage", lambda a: a[0]["id"] == message_id)
            assert message["sender"] == "alice"
            assert message["text"] == "hello bob"
            assert message["connectionId"] == alice.connection_id
            assert message["time"].endswith("Z")

        reply_id = await bob.invoke("broadcast", "hi alice")
        [reply] = await alice.wait_message("newMessage", lambda a: a[0]["id"] == reply_id)
        assert (reply["sender"], reply["text"]) == ("bob", "hi alice")


async def test_chat_refuses_an_empty_message_with_a_readable_error(stack: RunningStack) -> None:
    """An invalid message rejects the caller's invoke() and reaches nobody."""
    async with NodeClient(stack.api_url, name="carol") as carol:
        with pytest.raises(NodeClientError, match="A message cannot be empty"):
            await carol.invoke("broadcast", "   ")
        good_id = await carol.invoke("broadcast", "after the refusal")
        first = await carol.wait_message("newMessage")
        assert first[0]["id"] == good_id, "the refused message must not have been sent"


async def test_negotiate_requires_a_user_name(stack: RunningStack) -> None:
    """Without a name (or App Service Authentication) there is no connection."""
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{stack.api_url}/negotiate") as response:
            assert response.status == 500  # the binding expression has no value, as on Azure
        too_long = {"x-ms-client-principal-name": "x" * 65}
        async with http.post(f"{stack.api_url}/negotiate", headers=too_long) as response:
            assert response.status == 400
            assert "at most 64" in await response.text()


async def test_negotiate_refuses_a_body_posing_as_the_headers(stack: RunningStack) -> None:
    """A JSON body's "headers" field would stand in for the request's headers in the user id
    (as on Azure): negotiate answers 400 and gives out no token for the name it carries."""
    posing = {"headers": {"x-ms-client-principal-name": "admin"}}
    async with aiohttp.ClientSession() as http:
        for headers in ({"x-ms-client-principal-name": "mallory"}, {}):
            async with http.post(f"{stack.api_url}/negotiate", json=posing,
                                 headers=headers) as response:
                assert response.status == 400
                text = await response.text()
                assert "no request body" in text and "accessToken" not in text


async def test_service_refuses_a_tampered_token(stack: RunningStack) -> None:
    """A token whose payload was edited is refused with 401 by the service."""
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{stack.api_url}/negotiate", headers={"x-ms-client-principal-name": "mallory"}
        ) as response:
            assert response.status == 200
            info = json.loads(await response.text())
        header, payload, signature = info["accessToken"].split(".")
        tampered = (
            f"{header}.{payload[:-2]}{'A' if payload[-2] != 'A' else 'B'}{payload[-1]}.{signature}"
        )
        negotiate = info["url"].replace("/client/?", "/client/negotiate?") + "&negotiateVersion=1"
        for token, expected in ((tampered, 401), (info["accessToken"], 200)):
            async with http.post(
                negotiate, headers={"Authorization": f"Bearer {token}"}
            ) as response:
                assert response.status == expected


async def test_host_refuses_an_upstream_call_with_a_wrong_signature(stack: RunningStack) -> None:
    """A forged upstream call gets 401 and runs no function: nobody receives its message."""
    async with NodeClient(stack.api_url, name="dave") as dave:
        assert dave.connection_id
        body = json.dumps({"type": 1, "target": "broadcast", "arguments": ["forged"]})
        headers = {
            "Content-Type": "application/json",
            "X-ASRS-Connection-Id": dave.connection_id,
            "X-ASRS-Hub": "chat",
            "X-ASRS-Category": "messages",
            "X-ASRS-Event": "broadcast",
            "X-ASRS-User-Id": "dave",
        }
        async with aiohttp.ClientSession() as http:
            for signature in (None, sign_connection_id(dave.connection_id, ["not-the-key"])):
                forged = dict(headers)
                if signature:
                    forged["X-ASRS-Signature"] = signature
                async with http.post(
                    f"{stack.host_url}/runtime/webhooks/signalr", data=body, headers=forged
                ) as response:
                    assert response.status == 401
        genuine_id = await dave.invoke("broadcast", "genuine")
        first = await dave.wait_message("newMessage")
        assert first[0]["id"] == genuine_id and first[0]["text"] == "genuine"


async def test_index_serves_the_page_with_a_strict_policy(stack: RunningStack) -> None:
    """The page is HTML with a CSP that forbids inline script; its assets are served locally."""
    async with aiohttp.ClientSession() as http:
        async with http.get(stack.page_url) as response:
            assert response.status == 200
            assert response.content_type == "text/html"
            policy = response.headers["Content-Security-Policy"]
            page = await response.text()
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert 'data-max-length="2000"' in page and 'data-max-bytes="4000"' in page
        assert '<script src="assets/signalr.min.js">' in page
        for asset in ("app.js", "app.css", "signalr.min.js"):
            async with http.get(f"{stack.api_url}/assets/{asset}") as response:
                assert response.status == 200, asset
        async with http.get(f"{stack.api_url}/assets/..%2Ffunction_app.py") as response:
            assert response.status == 404
