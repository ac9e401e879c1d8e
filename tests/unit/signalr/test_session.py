"""The lean per-connection shell parts the benchmarks led to, pinned down.

``Wakeup`` waits on a bare future with a timer instead of ``asyncio.Event`` + ``wait_for``;
``Flag`` replaces ``asyncio.Event`` for ``Session.finished``; a session keeps the
``X-ASRS-User-Claims`` value instead of the decoded token; a stopping service refuses new
sockets (faster shutdowns let clients reconnect elsewhere). Each test says what must hold.
"""

from __future__ import annotations

import asyncio

import pytest
from aiohttp.test_utils import TestClient, TestServer

from emulator.contracts.upstream import format_claims
from emulator.signalr import DEFAULT_ACCESS_KEY, ServiceConfig, make_app
from emulator.signalr.app import SERVICE_KEY
from emulator.signalr.protocol.upstream import build_upstream_headers
from emulator.signalr.session import Flag, Wakeup
from tests.support.timeouts import TIMEOUT


async def test_wakeup_times_out_when_nothing_comes_and_stays_usable() -> None:
    wakeup = Wakeup()
    with pytest.raises(TimeoutError):
        await wakeup.wait(0.01)
    assert not wakeup.waiting
    waiter = asyncio.ensure_future(wakeup.wait(TIMEOUT))
    await asyncio.sleep(0)
    assert wakeup.waiting
    wakeup.set()
    await asyncio.wait_for(waiter, TIMEOUT)


async def test_wakeup_set_without_a_waiter_is_harmless() -> None:
    wakeup = Wakeup()
    wakeup.set()
    with pytest.raises(TimeoutError):
        await wakeup.wait(0.01)


async def test_wakeup_survives_a_cancelled_waiter() -> None:
    wakeup = Wakeup()
    waiter = asyncio.ensure_future(wakeup.wait())
    await asyncio.sleep(0)
    waiter.cancel()
    await asyncio.sleep(0)
    assert waiter.cancelled() and not wakeup.waiting
    wakeup.set()


async def test_session_flag_releases_all_waiters_once_set() -> None:
    flag = Flag()
    waiters = [asyncio.ensure_future(flag.wait()) for _ in range(3)]
    await asyncio.sleep(0)
    waiters[0].cancel()
    assert not flag.is_set()
    flag.set()
    await asyncio.wait_for(asyncio.gather(*waiters[1:]), TIMEOUT)
    assert flag.is_set()
    await flag.wait()


def test_upstream_headers_take_the_preformatted_claims() -> None:
    claims = {"asrs.s.uid": "ann", "role": ["a", "b"]}
    kwargs = {"connection_id": "c", "hub": "chat", "category": "messages", "event": "e",
              "keys": ("k",)}
    from_dict = build_upstream_headers(claims=claims, **kwargs)  # type: ignore[arg-type]
    from_text = build_upstream_headers(claims_header=format_claims(claims),
                                       **kwargs)  # type: ignore[arg-type]
    assert from_dict == from_text
    assert from_text["X-ASRS-User-Claims"] == "asrs.s.uid: ann, role: a, role: b"


async def test_service_refuses_new_websockets_and_negotiates_while_stopping() -> None:
    """A client told to reconnect by a stopping service gets 503 and retries elsewhere."""
    app = make_app(ServiceConfig(access_keys=(DEFAULT_ACCESS_KEY,)))
    async with TestClient(TestServer(app)) as client:
        app[SERVICE_KEY].stopping = True
        negotiate = await client.post("/client/negotiate?hub=chat")
        upgrade = await client.get("/client/?hub=chat&id=x",
                                   headers={"Upgrade": "websocket", "Connection": "Upgrade"})
        assert (negotiate.status, upgrade.status) == (503, 503)
