"""The service's lean per-connection parts that the benchmarks led to, pinned down.

``Outbox`` waits on bare futures with a timer instead of ``asyncio.Event`` + ``wait_for``;
``_Flag`` replaces ``asyncio.Event`` for ``ClientConnection.finished``; a connection keeps the
``X-ASRS-User-Claims`` value instead of the decoded token; a stopping service refuses new
sockets (faster shutdowns let clients reconnect to it). Each test says what must still hold.
"""

from __future__ import annotations

import asyncio

import pytest
from aiohttp.test_utils import TestClient, TestServer

from emulator.signalr import DEFAULT_ACCESS_KEY, ServiceConfig, make_app
from emulator.signalr.app import SERVICE_KEY
from emulator.signalr.connection import _Flag
from emulator.signalr.outbox import Outbox
from emulator.signalr.protocol.upstream import build_upstream_headers, format_claims
from tests.support.timeouts import TIMEOUT


async def test_outbox_get_times_out_when_nothing_comes() -> None:
    outbox = Outbox(4)
    with pytest.raises(TimeoutError):
        await outbox.get(timeout=0.01)
    assert outbox.put(b"a")  # still usable after a timeout
    assert await outbox.get(timeout=TIMEOUT) == b"a"


async def test_outbox_wakes_every_waiter_and_survives_a_cancelled_one() -> None:
    outbox = Outbox(4)
    first = asyncio.ensure_future(outbox.wait())
    second = asyncio.ensure_future(outbox.wait())
    third = asyncio.ensure_future(outbox.get())
    await asyncio.sleep(0)
    first.cancel()
    await asyncio.sleep(0)
    assert outbox.put(b"x")
    await asyncio.wait_for(asyncio.gather(second, third), TIMEOUT)
    assert third.result() == b"x"
    assert first.cancelled()


async def test_outbox_get_batch_joins_what_is_queued_up_to_the_limit() -> None:
    outbox = Outbox(10)
    for item in (b"a\x1e", b"bb\x1e", b"ccc\x1e"):
        outbox.put(item)
    assert await outbox.get_batch(timeout=TIMEOUT, max_bytes=4) == b"a\x1ebb\x1e"
    assert await outbox.get_batch(timeout=TIMEOUT) == b"ccc\x1e"
    outbox.close(b"end")
    assert outbox.drain() == [b"end"]
    assert await outbox.get_batch(timeout=TIMEOUT) is None


async def test_outbox_close_releases_a_waiting_writer() -> None:
    outbox = Outbox(1)
    getter = asyncio.ensure_future(outbox.get(timeout=TIMEOUT))
    await asyncio.sleep(0)
    assert outbox.put(b"1") and not outbox.put(b"2")  # the bound still holds
    assert await getter == b"1"
    getter = asyncio.ensure_future(outbox.get(timeout=TIMEOUT))
    await asyncio.sleep(0)
    outbox.close()
    assert await asyncio.wait_for(getter, TIMEOUT) is None


async def test_connection_flag_releases_all_waiters_once_set() -> None:
    flag = _Flag()
    waiters = [asyncio.ensure_future(flag.wait()) for _ in range(3)]
    await asyncio.sleep(0)
    waiters[0].cancel()
    assert not flag.is_set()
    flag.set()
    assert await asyncio.wait_for(asyncio.gather(*waiters[1:]), TIMEOUT) == [True, True]
    assert flag.is_set() and await flag.wait()


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
        app[SERVICE_KEY].shutting_down = True
        negotiate = await client.post("/client/negotiate?hub=chat")
        upgrade = await client.get("/client/?hub=chat&id=x",
                                   headers={"Upgrade": "websocket", "Connection": "Upgrade"})
        assert (negotiate.status, upgrade.status) == (503, 503)
