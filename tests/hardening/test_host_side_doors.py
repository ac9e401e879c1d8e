"""The host's own endpoints are no side door: pages on other origins cannot use them, and with
``--enable-auth`` the Durable HTTP API needs its system key, as on Azure.

A page on any origin can send a ``no-cors`` POST with a ``text/plain`` body to a loopback
server without a preflight. Before this, such a page could append a forged message to the
chat's stored history (the ``ChatRoom`` entity), add a ghost user to ``Presence``, or run a
timer function. The host now refuses every browser request to the durable API, ``/admin/`` and
the SignalR webhook whose ``Origin`` (or, without one, ``Sec-Fetch-Site``) is not its own page's.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from tests.hardening import host_support
from tests.hardening.conftest import StackFactory
from tests.hardening.host_support import (
    KEYS,
    HostFactory,
    read_json,
)
from tests.hardening.local_stack import LocalStack
from tests.support.timeouts import TIMEOUT

make_test_host = host_support.make_test_host  # fixtures
log_capture = host_support.log_capture
EVIL = "http://evil.localhost:6666"
FORGED = {"id": "forged-1", "time": "2000-01-01T00:00:00Z", "user": "mallory",
          "text": "forged by another page"}
SETTINGS = {"HUB_NAME": "chat"}


def _durable(stack: LocalStack, tail: str) -> str:
    return f"{stack.host_url}/runtime/webhooks/durabletask/{tail}"


def _attacks(stack: LocalStack) -> list[tuple[str, str, bytes]]:
    """What a hostile page would send: forge history, add a ghost, join a group, run a
    function, call the webhook."""
    ghost = json.dumps({"connectionId": "ghost", "user": "ghost"}).encode()
    return [
        ("POST", _durable(stack, "entities/ChatRoom/lobby?op=append"), json.dumps(FORGED).encode()),
        ("POST", _durable(stack, "entities/Presence/chat?op=connect"), ghost),
        ("POST", _durable(stack, "entities/Presence/chat?op=joinUser"),
         json.dumps({"user": "mallory", "group": "admins"}).encode()),
        ("DELETE", _durable(stack, "entities/ChatRoom/lobby"), b""),
        ("POST", f"{stack.host_url}/admin/functions/anything", b'{"input": ""}'),
        ("POST", f"{stack.host_url}/runtime/webhooks/signalr", b"{}"),
    ]


async def _entity(http: aiohttp.ClientSession, stack: LocalStack, name: str, key: str) -> Any:
    async with http.get(_durable(stack, f"entities/{name}/{key}")) as response:
        return await response.json(content_type=None) if response.status == 200 else None


async def _settled(stack: LocalStack) -> None:
    from emulator.functions.durable import DURABLE

    assert stack.host_runner is not None
    await stack.host_runner.app[DURABLE].wait_idle(TIMEOUT)


@pytest.mark.parametrize("headers", [
    {"Origin": EVIL},
    {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
    {"Origin": EVIL, "Sec-Fetch-Site": "cross-site", "Content-Type": "text/plain"},
], ids=["origin", "null-origin", "cross-site", "same-site", "no-cors-post"])
async def test_host_refuses_cross_site_requests_to_its_own_endpoints(
    make_local_stack: StackFactory, http: aiohttp.ClientSession, headers: dict[str, str],
) -> None:
    """Every forging request from another page gets 403 and changes nothing."""
    stack = await make_local_stack()
    for method, url, body in _attacks(stack):
        async with http.request(method, url, data=body, headers=headers) as response:
            assert response.status == 403, (method, url, response.status)
            assert "Access-Control-Allow-Origin" not in response.headers
    await _settled(stack)
    assert await _entity(http, stack, "ChatRoom", "lobby") is None
    assert await _entity(http, stack, "Presence", "chat") is None


async def test_host_serves_its_own_page_and_clients_that_are_not_browsers(
    make_local_stack: StackFactory, http: aiohttp.ClientSession,
) -> None:
    """The host's own page origin and clients without browser headers still reach the API
    (Core Tools answers them without keys unless auth is on): the check above can fail."""
    stack = await make_local_stack()
    own = {"Origin": stack.host_url, "Sec-Fetch-Site": "same-origin",
           "Content-Type": "text/plain"}
    url = _durable(stack, "entities/ChatRoom/lobby?op=append")
    async with http.post(url, data=json.dumps(FORGED), headers=own) as response:
        assert response.status == 202
    await _settled(stack)
    state = await _entity(http, stack, "ChatRoom", "lobby")
    assert [m["id"] for m in state["messages"]] == ["forged-1"]


async def test_host_does_not_block_http_functions_for_other_origins(
    make_local_stack: StackFactory, http: aiohttp.ClientSession,
) -> None:
    """HTTP-trigger functions are the app's: CORS governs them, as on Azure, not this check."""
    stack = await make_local_stack()
    async with http.get(f"{stack.api_url}/index", headers={"Origin": EVIL,
                                                           "Sec-Fetch-Site": "cross-site"}) as r:
        assert r.status == 200
        assert "Access-Control-Allow-Origin" not in r.headers


async def test_host_allows_cors_origins_on_its_endpoints(
    make_test_host: HostFactory, http: aiohttp.ClientSession,
) -> None:
    """An origin listed in Host.CORS is the developer's own page: it is let through."""
    host = await make_test_host("basic", SETTINGS, cors_origins=("http://page.local:8080",))
    url = f"{host.durable_url}/entities/Counter/k?op=add"
    async with http.post(url, json={"by": 1}, headers={"Origin": "http://page.local:8080"}) as r:
        assert r.status == 202
    async with http.post(url, json={"by": 1}, headers={"Origin": "http://page.local:9999"}) as r:
        assert r.status == 403


# -- keys ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "status"), [
    (None, 401), ("wrong", 401), ("signalr-key", 401), ("host-key", 401),
    ("durable-key", 202), ("master-key", 202),
])
async def test_host_durable_api_needs_its_system_key_with_auth(
    make_test_host: HostFactory, http: aiohttp.ClientSession, key: str | None, status: int,
) -> None:
    """With --enable-auth the durable API takes the durabletask_extension key or the master
    key (in ``code=`` or ``x-functions-key``), as the Functions host authorizes webhooks."""
    host = await make_test_host("basic", SETTINGS, keys=True)
    query = f"&code={key}" if key else ""
    async with http.post(f"{host.durable_url}/entities/Counter/k?op=add{query}",
                         json={"by": 1}) as response:
        assert response.status == status
    if key:
        async with http.get(f"{host.durable_url}/entities/Counter/k",
                            headers={"x-functions-key": key}) as response:
            assert response.status == (404 if status == 202 else 401)


async def test_host_durable_client_urls_carry_the_system_key(
    make_test_host: HostFactory, http: aiohttp.ClientSession,
) -> None:
    """The client binding hands the SDK the extension's payload with ``code=``; the SDK's own
    calls and the check-status URLs it returns all work with auth on."""
    host = await make_test_host("durable_chaining", keys=True)
    async with http.post(f"{host.url}/api/orchestrators/hello_orchestrator") as response:
        assert response.status == 202
        links = await response.json()
    for name in ("statusQueryGetUri", "sendEventPostUri", "terminatePostUri",
                 "purgeHistoryDeleteUri", "restartPostUri", "suspendPostUri", "resumePostUri"):
        assert "code=durable-key" in links[name], name
    async with http.get(links["statusQueryGetUri"]) as response:
        assert response.status in (200, 202)
        assert (await response.json())["instanceId"] == links["id"]
    bare = links["statusQueryGetUri"].replace("&code=durable-key", "")
    async with http.get(bare) as response:
        assert response.status == 401

    from emulator.functions.durable import DURABLE

    durable = host.app[DURABLE]
    info = next(f for f in durable.runtime.functions if f.name == "http_start")
    payload = json.loads(next(iter(durable.client_inputs(info).values())))
    assert payload["requiredQueryStringParameters"] == "code=durable-key"
    assert payload["baseUrl"] == host.durable_url
    assert payload["creationUrls"]["createNewInstancePostUri"].endswith("&code=durable-key")
    assert payload["managementUrls"]["statusQueryGetUri"].endswith("&code=durable-key")
    assert "durable-key" not in payload["rpcBaseUrl"] and "master-key" not in payload["rpcBaseUrl"]


async def test_host_durable_client_works_with_auth(
    make_test_host: HostFactory, http: aiohttp.ClientSession,
) -> None:
    """Entity signals and reads through the SDK (its RPC calls carry no key) still work."""
    host = await make_test_host("basic", SETTINGS, keys=True)
    async with http.post(f"{host.url}/api/counter/k/add", json={"by": 5}) as response:
        assert response.status == 202
    from emulator.functions.durable import DURABLE

    await host.app[DURABLE].wait_idle(TIMEOUT)
    assert (await read_json(http, f"{host.url}/api/counter/k"))["total"] == 5


async def test_host_durable_rpc_path_refuses_a_wrong_secret(
    make_test_host: HostFactory, http: aiohttp.ClientSession,
) -> None:
    """The SDK's RPC base is unguessable: another secret in its place gets 401."""
    host = await make_test_host("basic", SETTINGS)
    async with http.post(f"{host.durable_url}/rpc/guess/entities/Counter/k?op=add",
                         json={"by": 1}) as response:
        assert response.status == 401


async def test_host_keys_file_gains_the_durable_system_key(
    make_test_host: HostFactory, tmp_path: Any,
) -> None:
    """A keys file without ``durabletask_extension`` gets one, created on demand as the
    Functions host creates extension keys."""
    keys = tmp_path / "old-keys.json"
    keys.write_text(json.dumps({**KEYS, "systemKeys": {"signalr_extension": "signalr-key"}}))
    await make_test_host("basic", SETTINGS, enable_auth=True, keys_file=keys)
    stored = json.loads(keys.read_text())
    assert stored["systemKeys"]["signalr_extension"] == "signalr-key"
    assert len(stored["systemKeys"]["durabletask_extension"]) >= 32


# -- a real browser ----------------------------------------------------------------------------

ATTACK_PAGE = "<!doctype html><title>another site</title><p>nothing to see</p>"
ATTACK = """
async (targets) => {
  const sent = [];
  for (const [method, url, body] of targets) {
    try {
      await fetch(url, {method, mode: "no-cors", body: body || undefined});
      sent.push("answered");
    } catch (error) {
      sent.push(String(error));
    }
  }
  return sent;
}
"""


@pytest.mark.browser
async def test_host_refuses_no_cors_posts_from_a_page_on_another_port(
    make_local_stack: StackFactory, http: aiohttp.ClientSession, browser: Any,
    log_capture: Any,
) -> None:
    """Chromium on a page of another local origin sends ``no-cors`` POSTs (no preflight) to the
    durable API and the webhook: the host answers each with 403, and no entity changes."""
    from aiohttp import web

    from tests.hardening.local_stack import listening_socket

    stack = await make_local_stack()
    async def attack_page(_: web.Request) -> web.Response:
        return web.Response(text=ATTACK_PAGE, content_type="text/html")

    other = web.Application()
    other.router.add_get("/", attack_page)
    runner = web.AppRunner(other, access_log=None)
    await runner.setup()
    sock = listening_socket()
    await web.SockSite(runner, sock).start()
    try:
        context = await browser.new_context()
        page = await context.new_page()
        await page.goto(f"http://127.0.0.1:{sock.getsockname()[1]}/")
        # A no-cors fetch may only GET, HEAD or POST.
        targets = [[m, u, b.decode()] for m, u, b in _attacks(stack) if m == "POST"]
        assert await page.evaluate(ATTACK, targets) == ["answered"] * len(targets)
    finally:
        await runner.cleanup()
    await _settled(stack)
    assert await _entity(http, stack, "ChatRoom", "lobby") is None
    assert await _entity(http, stack, "Presence", "chat") is None
    refused = [r for r in log_capture.records if "refused with 403" in r.getMessage()]
    assert len(refused) == len(targets), log_capture.text
