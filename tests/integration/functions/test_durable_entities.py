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
    return [Operation(name="add", input=json.dumps(str(n)), id=f"op-{n}") for n in range(count)]


def _record_saves(monkeypatch, store) -> list[list[str]]:
    """The ids of the requests of each queue_entity_requests call, in order."""
    saves: list[list[str]] = []
    original = store.queue_entity_requests

    def recorded(requests, now):
        saves.append([decode_request(text).id for _, _, text in requests])
        return original(requests, now)

    monkeypatch.setattr(store, "queue_entity_requests", recorded)
    return saves


async def test_requests_queued_in_one_turn_of_the_loop_are_saved_in_one_commit(
        make_host, monkeypatch):
    """Eight signals at once: one transaction holds them all, in the order they came, and
    the entity then runs every one of them."""
    host = await make_host("durable_entity_template")
    durable = host.app[DURABLE]
    saves = _record_saves(monkeypatch, durable.store)
    before = durable.store.commits
    await asyncio.gather(*(durable.entity_engine.queue(durable.hub, "@counter@k", op)
                           for op in _adds(8)))
    assert saves == [[f"op-{n}" for n in range(8)]]
    assert durable.store.commits - before >= 1
    await idle(host)
    assert await read(host, f"{COUNTER}/k") == (200, sum(range(8)))


async def test_a_caller_that_goes_away_still_has_its_request_run(make_host):
    """The function that signalled is cancelled while its signal is being saved: the signal
    was accepted into the group, so it is saved and its entity runs it all the same."""
    host = await make_host("durable_entity_template")
    durable = host.app[DURABLE]
    engine = durable.entity_engine
    kept = asyncio.ensure_future(engine.queue(durable.hub, "@counter@kept", _adds(2)[1]))
    left = asyncio.ensure_future(engine.queue(durable.hub, "@counter@left",
                                              Operation(name="add", input=json.dumps("10"),
                                                        id="left")))
    await asyncio.sleep(0)  # both joined this turn's group; its save starts at the next turn
    left.cancel()
    await kept
    await idle(host)
    assert left.cancelled()
    assert await read(host, f"{COUNTER}/left") == (200, 10)


async def test_a_signal_that_cannot_be_stored_is_refused_alone(make_host):
    """A JSON string escaping a lone surrogate cannot be written by SQLite: that signal gets a
    400, the others sent with it are saved and run."""
    host = await make_host("durable_entity_template")
    good = [host.request("POST", f"{COUNTER}/mixed?op=add", json="2") for _ in range(3)]
    bad = host.request("POST", f"{COUNTER}/mixed?op=add", data='"\\ud800"',
                       headers={"Content-Type": "application/json"})
    results = await asyncio.gather(*good, bad)
    assert [status for status, _, _ in results] == [202, 202, 202, 400]
    await idle(host)
    assert await read(host, f"{COUNTER}/mixed") == (200, 6)


async def test_a_group_the_store_cannot_save_runs_from_memory_for_each_caller(make_host,
                                                                              caplog):
    """The disk fills (SQLite's max_page_count): every request of the group is kept in memory,
    in order, for the entity to run; the failure is logged once."""
    host = await make_host("durable_entity_template")
    durable = host.app[DURABLE]
    engine, store = durable.entity_engine, durable.store
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {pages}")
    big = [Operation(name="add", input=json.dumps(str(n) + " " * 5000), id=f"op-{n}")
           for n in range(4)]
    await asyncio.gather(*(engine.queue(durable.hub, "@counter@full", op) for op in big))
    assert caplog.text.count("cannot queue a signal") == 1
    # The entity's first batch waits 5 ms (ENTITY_BATCH_DELAY): they are still there, in order.
    assert [decode_request(text).id for text in engine._volatile["@counter@full"]] == [
        f"op-{n}" for n in range(4)]
    await idle(host)
    assert "@counter@full" not in engine._volatile  # taken by the entity's batch
