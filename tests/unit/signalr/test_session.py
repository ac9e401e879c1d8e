"""The lean per-connection shell parts the benchmarks led to, pinned down.

``Wakeup`` waits on a bare future with a timer instead of ``asyncio.Event`` + ``wait_for``;
``Flag`` replaces ``asyncio.Event`` for a session's end, made only when something waits for
it; a session's batches of messages take turns in order without a lock object; a session keeps
the ``X-ASRS-User-Claims`` value instead of the decoded token; a stopping service refuses new
sockets (faster shutdowns let clients reconnect elsewhere). Each test says what must hold.
"""

from __future__ import annotations

import asyncio

import pytest
from aiohttp.test_utils import TestClient, TestServer

from emulator.contracts.upstream import format_claims
from emulator.logs import OnceLog
from emulator.signalr import DEFAULT_ACCESS_KEY, ServiceConfig, make_app
from emulator.signalr.app import SERVICE_KEY
from emulator.signalr.protocol.connection import HubConnection
from emulator.signalr.protocol.upstream import build_upstream_headers
from emulator.signalr.session import Flag, Session, Wakeup
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


def _session() -> Session:
    return Session(connection_id="c", connection_token="c", hub="chat", transport="WebSockets",
                   user_id=None, claims_header="", query_header="",
                   core=HubConnection(now=0.0), refusals=OnceLog())


async def test_session_batches_take_turns_in_order_and_a_cancelled_one_passes_on() -> None:
    session = _session()
    order: list[str] = []

    async def batch(name: str, hold: asyncio.Future[None] | None = None) -> None:
        await session.take_turn()
        try:
            order.append(name)
            if hold is not None:
                await hold
        finally:
            session.end_turn()

    hold: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    first = asyncio.ensure_future(batch("first", hold))
    await asyncio.sleep(0)
    second, third, fourth = (asyncio.ensure_future(batch(n)) for n in ("2nd", "3rd", "4th"))
    await asyncio.sleep(0)
    second.cancel()  # waiting: it leaves the line
    hold.set_result(None)
    await asyncio.sleep(0)
    third.cancel()  # handed the turn as it is cancelled: the next one goes on
    await asyncio.wait_for(asyncio.gather(first, fourth), TIMEOUT)
    assert order == ["first", "4th"] and second.cancelled() and third.cancelled()
    assert session._turns is None, "an idle session keeps nothing for its turns"


async def test_session_end_is_awaited_whether_it_came_before_or_after() -> None:
    waited, early = _session(), _session()
    waiter = asyncio.ensure_future(waited.wait_finished())
    await asyncio.sleep(0)
    assert not waited.is_finished
    waited.mark_finished()
    early.mark_finished()
    await asyncio.wait_for(asyncio.gather(waiter, early.wait_finished()), TIMEOUT)
    assert waited.is_finished and early.is_finished and not _session().is_finished


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
