"""The app's own REST client (chat_io.rest.Service) against a small REST server on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from chat.outputs import to_all, to_connection
from chat_io.rest import Service

KEY = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH"
SETTING = "AzureSignalRConnectionString"


@dataclass
class Recorder:
    requests: list[tuple[str, str, str]] = field(default_factory=list)
    """(method, path, bearer token) of every request."""
    identity_calls: int = 0


@pytest.fixture
async def server() -> AsyncIterator[tuple[TestServer, Recorder]]:
    recorder = Recorder()

    async def rest(request: web.Request) -> web.Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        recorder.requests.append((request.method, request.path, token))
        if "/connections/alive" in request.path:
            return web.Response(status=200)
        if "/connections/broken" in request.path:
            return web.Response(status=500)
        if request.path.endswith("/connections/huge/:send"):
            return web.Response(status=413)
        if request.method in ("HEAD", "GET"):
            return web.Response(status=404)
        return web.Response(status=202)

    async def identity(request: web.Request) -> web.Response:
        recorder.identity_calls += 1
        assert request.headers["X-IDENTITY-HEADER"] == "secret"
        assert request.query["resource"] == "https://signalr.azure.com"
        return web.json_response({"access_token": "entra-token", "expires_on": "9999999999"})

    app = web.Application()
    app.router.add_get("/msi/token", identity)
    app.router.add_route("*", "/api/{tail:.*}", rest)
    test_server = TestServer(app, host="127.0.0.1")
    await test_server.start_server()
    yield test_server, recorder
    await test_server.close()


def keyed(server: TestServer) -> Service:
    return Service({SETTING: f"Endpoint=http://127.0.0.1;Port={server.port};AccessKey={KEY};"},
                   SETTING, "chat")


async def test_rest_client_asks_whether_connections_exist(
    server: tuple[TestServer, Recorder],
) -> None:
    """200 is yes, 404 no, anything else unknown; each request carries a valid token."""
    test_server, recorder = server
    service = keyed(test_server)
    assert await service.alive(["alive", "gone", "broken"]) == {"alive": True, "gone": False}
    assert await service.user_exists("O'Brien") is False
    await service.aclose()
    for method, path, token in recorder.requests:
        assert method == "HEAD"
        audience = f"http://127.0.0.1:{test_server.port}{path}".replace("'", "%27")
        claims = jwt.decode(token, KEY, algorithms=["HS256"], audience=audience)
        assert claims["exp"] > claims["iat"]


async def test_rest_client_sends_each_item_even_when_one_fails(
    server: tuple[TestServer, Recorder], caplog: pytest.LogCaptureFixture,
) -> None:
    """A 413 for one connection's message does not keep the others from going out."""
    test_server, recorder = server
    service = keyed(test_server)
    await service.send_each([
        to_connection("huge", "history", ["..."]), to_connection("c1", "onlineUsers", {}),
        to_all("userJoined", {"user": "ada"})])
    await service.aclose()
    sent = sorted(path for method, path, _ in recorder.requests if method == "POST")
    assert sent == ["/api/hubs/chat/:send", "/api/hubs/chat/connections/c1/:send",
                    "/api/hubs/chat/connections/huge/:send"]
    assert "answered 413 to history to huge" in caplog.text


async def test_rest_client_with_a_managed_identity_fetches_one_token(
    server: tuple[TestServer, Recorder],
) -> None:
    """The identity-based setting: an Entra token from the App Service endpoint, reused."""
    test_server, recorder = server
    base = f"http://127.0.0.1:{test_server.port}"
    service = Service({f"{SETTING}__serviceUri": base, "IDENTITY_ENDPOINT": f"{base}/msi/token",
                       "IDENTITY_HEADER": "secret"}, SETTING, "chat")
    assert service.usable
    assert await service.connection_exists("alive") is True
    assert await service.connection_exists("gone") is False
    assert recorder.identity_calls == 1
    assert {token for _, _, token in recorder.requests} == {"entra-token"}
    await service.aclose()


def test_rest_client_without_credentials_is_not_usable() -> None:
    identity_only = Service({f"{SETTING}__serviceUri": "https://x.service.signalr.net"},
                            SETTING, "chat")
    assert not identity_only.usable and not Service({}, SETTING, "chat").usable


async def test_rest_client_that_cannot_reach_the_service_answers_unknown() -> None:
    service = Service({SETTING: f"Endpoint=http://127.0.0.1;Port=1;AccessKey={KEY};"}, SETTING,
                      "chat")
    unknown: Any = await service.connection_exists("c1")
    assert unknown is None
    await service.send_each([to_all("userLeft", {"user": "x"})])  # logged, not raised
    await service.close("c1", "bye")
    await service.aclose()
