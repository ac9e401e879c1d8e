"""Pages on other origins cannot use the local SignalR Service, whatever token they bring.

The development key is public, so any page can mint a valid client token; CORS does not cover
WebSockets, and a ``no-cors`` request needs no preflight. The service therefore checks the
``Origin`` (and ``Sec-Fetch-Site``) of every browser request against its allow-list: the host's
own page origin, ``Host.CORS`` and ``--allow-origin``.
"""

from __future__ import annotations

import aiohttp
import pytest

from emulator.contracts import client_audience, issue_token
from tests.hardening.conftest import StackFactory
from tests.hardening.local_stack import KEY, LocalStack

EVIL = "http://evil.localhost:6666"


def _token(user: str = "mallory") -> str:
    import time

    return issue_token(audience=client_audience("http://127.0.0.1", "chat"), key=KEY,
                       now=time.time(), user_id=user)


def _page(stack: LocalStack) -> str:
    return stack.host_url  # the host's own page origin, allowed by start_local_stack


async def test_service_refuses_negotiate_from_another_origin(
    make_local_stack: StackFactory, http: aiohttp.ClientSession
) -> None:
    """A page on another origin gets 403 and no CORS answer, even with a valid token."""
    stack = await make_local_stack()
    url = f"{stack.service_url}/client/negotiate?hub=chat&negotiateVersion=1"
    headers = {"Authorization": f"Bearer {_token()}"}
    async with http.post(url, headers={**headers, "Origin": EVIL}) as response:
        assert response.status == 403
        assert "Access-Control-Allow-Origin" not in response.headers
    async with http.post(url, headers={**headers, "Origin": _page(stack)}) as response:
        assert response.status == 200
        assert response.headers["Access-Control-Allow-Origin"] == _page(stack)


async def test_service_refuses_websocket_from_another_origin(
    make_local_stack: StackFactory, http: aiohttp.ClientSession
) -> None:
    """WebSockets are not covered by CORS: the upgrade itself is refused for other origins."""
    stack = await make_local_stack()
    url = f"{stack.service_url}/client/?hub=chat&access_token={_token()}"
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await http.ws_connect(url, origin=EVIL)
    assert refused.value.status == 403
    ws = await http.ws_connect(url, origin=_page(stack))
    await ws.close()


async def test_service_answers_preflights_only_for_allowed_origins(
    make_local_stack: StackFactory, http: aiohttp.ClientSession
) -> None:
    """A preflight from another origin is refused; the page's own is answered."""
    stack = await make_local_stack()
    url = f"{stack.service_url}/client/negotiate?hub=chat"
    preflight = {"Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization"}
    async with http.options(url, headers={**preflight, "Origin": EVIL}) as response:
        assert response.status == 403
        assert "Access-Control-Allow-Origin" not in response.headers
    async with http.options(url, headers={**preflight, "Origin": _page(stack)}) as response:
        assert response.status == 204
        assert response.headers["Access-Control-Allow-Origin"] == _page(stack)


@pytest.mark.parametrize(("site", "status"), [("cross-site", 403), ("same-site", 403),
                                              ("same-origin", 401), ("none", 401)])
async def test_service_refuses_no_cors_requests_from_other_pages(
    make_local_stack: StackFactory, http: aiohttp.ClientSession, site: str, status: int
) -> None:
    """A browser request without Origin (a ``no-cors`` GET) from another page is refused
    before its token is read; the browser's own navigation is not (it fails on its token)."""
    stack = await make_local_stack()
    async with http.get(f"{stack.service_url}/client/?hub=chat&id=x",
                        headers={"Sec-Fetch-Site": site}) as response:
        assert response.status == status


async def test_service_allows_clients_that_are_not_browsers(
    make_local_stack: StackFactory, http: aiohttp.ClientSession
) -> None:
    """The SignalR client libraries send no Origin: they are judged by their token alone."""
    stack = await make_local_stack()
    url = f"{stack.service_url}/client/negotiate?hub=chat&negotiateVersion=1"
    async with http.post(url, headers={"Authorization": f"Bearer {_token()}"}) as response:
        assert response.status == 200
