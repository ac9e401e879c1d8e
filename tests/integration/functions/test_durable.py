"""Durable entities and the durable client, through real HTTP against the host."""

from __future__ import annotations

import asyncio
import json
import sqlite3

from emulator.functions.durable import DURABLE
from tests.support.timeouts import TIMEOUT

SETTINGS = {"HUB_NAME": "chat"}


async def wait_idle(host) -> None:
    await host.app[DURABLE].wait_idle(TIMEOUT)


async def test_host_entity_signal_then_read(make_host) -> None:
    """signal_entity answers 202, the batch runs, read_entity_state returns the state."""
    host = await make_host("basic", SETTINGS)
    assert (await host.request("GET", "/api/counter/lobby"))[0] == 404
    for amount in (2, 3):
        status, _, _ = await host.request("POST", "/api/counter/lobby/add",
                                          data=json.dumps({"by": amount}))
        assert status == 202
    await wait_idle(host)
    status, body, _ = await host.request("GET", "/api/counter/lobby")
    assert status == 200
    assert json.loads(body) == {"total": 5, "ops": [2, 3]}


async def test_host_entity_keys_are_case_sensitive_names_are_not(make_host) -> None:
    """'Counter'/'counter' are one entity; keys 'Lobby' and 'lobby' are two."""
    host = await make_host("basic", SETTINGS)
    await host.request("POST", "/api/counter/Lobby/add", data=json.dumps({"by": 1}))
    await wait_idle(host)
    assert (await host.request("GET", "/api/counter/Lobby"))[0] == 200
    assert (await host.request("GET", "/api/counter/lobby"))[0] == 404


async def test_host_entity_failed_operation_keeps_state(make_host, caplog) -> None:
    """An operation that raises is logged and the entity keeps its previous state."""
    host = await make_host("basic", SETTINGS)
    await host.request("POST", "/api/counter/k/add", data=json.dumps({"by": 4}))
    await host.request("POST", "/api/counter/k/fail")
    await wait_idle(host)
    status, body, _ = await host.request("GET", "/api/counter/k")
    assert (status, json.loads(body)["total"]) == (200, 4)
    assert "operation 'fail' failed" in caplog.text


async def test_host_entity_delete(make_host) -> None:
    """destruct_on_exit removes the entity: reads answer 404 again."""
    host = await make_host("basic", SETTINGS)
    await host.request("POST", "/api/counter/gone/add", data=json.dumps({"by": 1}))
    await host.request("POST", "/api/counter/gone/delete")
    await wait_idle(host)
    assert (await host.request("GET", "/api/counter/gone"))[0] == 404


async def test_host_entity_state_survives_restart(make_host, tmp_path) -> None:
    """State is in SQLite under the data dir; a new host on the same dir reads it."""
    first = await make_host("basic", SETTINGS, data_dir=tmp_path / "shared")
    await first.request("POST", "/api/counter/persist/add", data=json.dumps({"by": 7}))
    await wait_idle(first)
    second = await make_host("basic", SETTINGS, data_dir=tmp_path / "shared")
    status, body, _ = await second.request("GET", "/api/counter/persist")
    assert (status, json.loads(body)["total"]) == (200, 7)
    with sqlite3.connect(tmp_path / "shared" / "entities.sqlite3") as db:
        assert db.execute("SELECT name, key FROM entities").fetchall() == [("counter", "persist")]


async def test_host_entity_batches_are_serial_per_instance(make_host) -> None:
    """Many concurrent signals to one entity all apply: batches never overlap."""
    host = await make_host("basic", SETTINGS)
    results = await asyncio.gather(*[
        host.request("POST", "/api/counter/busy/add", data=json.dumps({"by": 1}))
        for _ in range(40)])
    assert {r[0] for r in results} == {202}
    await wait_idle(host)
    status, body, _ = await host.request("GET", "/api/counter/busy")
    assert (status, json.loads(body)["total"]) == (200, 40)


async def test_host_entity_http_api_refusals(make_host) -> None:
    """Unknown entity names and bad keys are refused with 400 on the SDK's HTTP API."""
    host = await make_host("basic", SETTINGS)
    base = "/runtime/webhooks/durabletask/entities"
    assert (await host.request("POST", f"{base}/nosuch/k?op=add"))[0] == 400
    assert (await host.request("GET", f"{base}/nosuch/k"))[0] == 400
    assert (await host.request("POST", f"{base}/counter/a%23b?op=add"))[0] == 400
    status, _, _ = await host.request("POST", f"{base}/counter/k?op=add", data=b"{bad",
                                      headers={"Content-Type": "application/json"})
    assert status == 400
    status, body, _ = await host.request("POST", "/runtime/webhooks/durabletask/orchestrators/x")
    assert status == 400 and "is not an orchestrator function" in body.decode()


async def test_host_signalr_trigger_with_durable_client(make_host) -> None:
    """A SignalR trigger can signal and read an entity through its durable client."""
    from emulator.contracts import sign_connection_id

    key = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH"
    settings = {**SETTINGS, "AzureSignalRConnectionString":
                f"Endpoint=http://localhost:8888;AccessKey={key};Version=1.0;"}
    host = await make_host("basic", settings)
    headers = {"Content-Type": "application/json", "X-ASRS-Hub": "chat",
               "X-ASRS-Category": "messages", "X-ASRS-Event": "count",
               "X-ASRS-Connection-Id": "c1", "X-ASRS-Signature": sign_connection_id("c1", [key])}
    body = json.dumps({"type": 1, "invocationId": "1", "target": "count", "arguments": [5]})
    status, reply, _ = await host.request("POST", "/runtime/webhooks/signalr", data=body,
                                          headers=headers)
    assert status == 200
    # A read right after a signal sees committed state only, so it may or may not include it.
    assert json.loads(reply[:-1])["result"] in (-1, 5)
    await wait_idle(host)
    status, reply, _ = await host.request("POST", "/runtime/webhooks/signalr", data=body,
                                          headers=headers)
    assert json.loads(reply[:-1])["result"] in (5, 10)
    await wait_idle(host)
    status, reply, _ = await host.request("GET", "/api/counter/from-signalr")
    assert json.loads(reply)["total"] == 10
