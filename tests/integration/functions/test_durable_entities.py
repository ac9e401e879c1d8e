"""The whole Durable entity HTTP API, through real HTTP: signal, read, list, delete, task hubs."""

from __future__ import annotations

import asyncio
import json

from emulator.functions.durable import DURABLE
from emulator.functions.entities import Operation, decode_request
from tests.integration.functions.durable_support import API
from tests.support.timeouts import TIMEOUT

COUNTER = f"{API}/entities/Counter"


async def idle(host) -> None:
    await host.app[DURABLE].wait_idle(TIMEOUT)


async def read(host, path: str) -> tuple[int, object]:
    status, body, _ = await host.request("GET", path)
    return status, json.loads(body) if status == 200 else None


async def test_entity_template_driven_through_the_http_api(make_host, caplog) -> None:
    """The func new counter adds a body of 5 sent as text or as a JSON string; a bare JSON
    number reaches get_input() undecodable, exactly as on Azure, and only that op fails."""
    host = await make_host("durable_entity_template")
    assert (await host.request("POST", f"{COUNTER}/k?op=add", data="5"))[0] == 202
    assert (await host.request("POST", f"{COUNTER}/k?op=add", json="5"))[0] == 202
    assert (await host.request("POST", f"{COUNTER}/k?op=add", data="5",
                               headers={"Content-Type": "application/json"}))[0] == 202
    await idle(host)
    assert await read(host, f"{COUNTER}/k") == (200, 10)
    assert "operation 'add' failed: \"the JSON object must be str" in caplog.text
    assert (await host.request("POST", f"{COUNTER}/k?op=reset"))[0] == 202
    await idle(host)
    assert await read(host, f"{COUNTER}/k") == (200, 0)


async def test_entity_signal_accepts_any_json_body(make_host) -> None:
    """Objects, arrays, strings, numbers, true and null are all accepted and delivered."""
    host = await make_host("basic", {"HUB_NAME": "chat"})
    for body in ({"by": 1}, [1], "text", 3.5, True, None):
        status, _, _ = await host.request("POST", f"{API}/entities/counter/any?op=noop",
                                          data=json.dumps(body),
                                          headers={"Content-Type": "application/json"})
        assert status == 202
    await idle(host)
    assert (await read(host, f"{API}/entities/counter/any"))[0] == 200


async def test_entity_list_with_state_and_pages(make_host) -> None:
    """GET /entities/{name} lists existing entities, with state when fetchState=true, in pages
    chained by x-ms-continuation-token."""
    host = await make_host("durable_entity_template")
    for key in ("a", "b", "c"):
        await host.request("POST", f"{COUNTER}/{key}?op=add", json=json.dumps(len(key) * 2))
    await idle(host)
    status, body, headers = await host.request("GET", f"{COUNTER}?fetchState=true&top=2")
    page = json.loads(body)
    assert status == 200
    assert [(e["entityId"], e["state"]) for e in page] == [
        ({"name": "counter", "key": "a"}, 2), ({"name": "counter", "key": "b"}, 2)]
    assert page[0]["lastOperationTime"].endswith("Z")
    token = headers["x-ms-continuation-token"]
    status, body, headers = await host.request("GET", f"{COUNTER}?top=2", headers={
        "x-ms-continuation-token": token})
    assert [(e["entityId"]["key"], e["state"]) for e in json.loads(body)] == [("c", None)]
    assert "x-ms-continuation-token" not in headers
    status, body, _ = await host.request("GET", f"{API}/entities/")
    assert len(json.loads(body)) == 3


async def test_entity_delete_signals_the_delete_operation(make_host) -> None:
    """DELETE sends the 'delete' operation; an entity that destructs on it is gone (404)."""
    host = await make_host("basic", {"HUB_NAME": "chat"})
    await host.request("POST", f"{API}/entities/counter/gone?op=add", json=json.dumps({"by": 1}))
    await idle(host)
    assert (await read(host, f"{API}/entities/counter/gone"))[0] == 200
    assert (await host.request("DELETE", f"{API}/entities/counter/gone"))[0] == 202
    await idle(host)
    assert (await read(host, f"{API}/entities/counter/gone"))[0] == 404
    _status, body, _ = await host.request("GET", f"{API}/entities/counter")
    assert json.loads(body) == []


async def test_entity_other_task_hub_is_another_namespace(make_host) -> None:
    """taskHub names another task hub: reads there do not see this hub's state, and signals
    there wait for an app with that hub name (any entity name is accepted, as on Azure)."""
    host = await make_host("durable_entity_template")
    await host.request("POST", f"{COUNTER}/k?op=add", json="1")
    await idle(host)
    assert await read(host, f"{COUNTER}/k?taskHub=TestHubName") == (200, 1)
    assert (await read(host, f"{COUNTER}/k?taskHub=OtherHub"))[0] == 404
    assert (await host.request("POST", f"{COUNTER}/k?op=add&taskHub=OtherHub", json="9"))[0] == 202
    status, _, _ = await host.request("POST", f"{API}/entities/unknown/k?op=x&taskHub=OtherHub")
    assert status == 202
    await idle(host)
    assert (await read(host, f"{COUNTER}/k?taskHub=OtherHub"))[0] == 404
    assert await read(host, f"{COUNTER}/k") == (200, 1)
    status, body, _ = await host.request("GET", f"{COUNTER}?taskHub=OtherHub")
    assert json.loads(body) == []
    status, body, _ = await host.request("GET", f"{COUNTER}/k?taskHub=bad-name!")
    assert status == 400 and "Task hub name" in json.loads(body)["ExceptionMessage"]


async def test_entity_connection_must_resolve_like_on_azure(make_host) -> None:
    """connection names a storage setting: Storage and defined settings work, others are 500."""
    host = await make_host("durable_entity_template",
                           {"AzureWebJobsBackup": "UseDevelopmentStorage=true"})
    await host.request("POST", f"{COUNTER}/k?op=add", json="1")
    await idle(host)
    assert (await read(host, f"{COUNTER}/k?connection=Storage"))[0] == 200
    assert (await read(host, f"{COUNTER}/k?connection=Backup"))[0] == 200
    status, body, _ = await host.request("GET", f"{COUNTER}/k?connection=Nowhere")
    assert status == 500
    assert json.loads(body)["ExceptionMessage"] == (
        "Unable to resolve the Azure Storage connection named 'Nowhere'.")


async def test_orchestration_in_another_task_hub_waits(make_host) -> None:
    """An instance started in another task hub stays Pending here: no app of that hub runs."""
    host = await make_host("durable_features")
    status, body, _ = await host.request("POST", f"{API}/orchestrators/anything?taskHub=Elsewhere")
    assert status == 202
    links = json.loads(body)
    assert "taskHub=Elsewhere" in links["statusQueryGetUri"]
    await host.app[DURABLE].wait_idle(TIMEOUT)
    status, body, _ = await host.request("GET", f"{API}/instances/{links['id']}?taskHub=Elsewhere")
    assert status == 202 and json.loads(body)["runtimeStatus"] == "Pending"
    assert (await host.request("GET", f"{API}/instances/{links['id']}"))[0] == 404


def _adds(count: int) -> list[Operation]:
    return [Operation(name="add", input=str(n), id=f"op-{n}") for n in range(count)]


async def test_requests_queued_in_one_turn_of_the_loop_are_saved_in_one_commit(make_host):
    """Eight signals at once: one transaction holds them all, in the order they came, and
    each caller hears back with its own row."""
    host = await make_host("durable_entity_template")
    durable = host.app[DURABLE]
    engine, store = durable.entity_engine, durable.store
    before = store.commits
    wakes = await asyncio.gather(*(engine.queue(durable.hub, "@counter@k", op)
                                   for op in _adds(8)))
    assert store.commits - before == 1
    assert [w.seq for w in wakes] == sorted(w.seq for w in wakes) and len(set(wakes)) == 8
    rows = store.take_entity_requests(durable.hub, "@counter@k", 50)
    assert [decode_request(text).id for _, text in rows] == [f"op-{n}" for n in range(8)]


async def test_a_group_the_store_cannot_save_runs_from_memory_for_each_caller(make_host,
                                                                              caplog):
    """The disk fills (SQLite's max_page_count): every request of the group is kept in memory,
    in order, and the failure is logged once."""
    host = await make_host("durable_entity_template")
    durable = host.app[DURABLE]
    engine, store = durable.entity_engine, durable.store
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {pages}")
    big = [Operation(name="add", input=json.dumps("x" * 5000), id=f"op-{n}") for n in range(4)]
    await asyncio.gather(*(engine.queue(durable.hub, "@counter@full", op) for op in big))
    assert [decode_request(text).id for text in engine._volatile["@counter@full"]] == [
        f"op-{n}" for n in range(4)]
    assert caplog.text.count("cannot queue a signal") == 1
