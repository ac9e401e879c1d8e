"""Durable orchestrations run by the SDK's own orchestrator code, through real HTTP to the host."""

from __future__ import annotations

import asyncio
import json
import logging
import socket

import aiohttp
from aiohttp import web

from emulator.functions import HostConfig, make_app
from emulator.functions.durable import DURABLE
from tests.integration.functions.conftest import APPS
from tests.integration.functions.durable_support import API, poll_status
from tests.support.timeouts import TIMEOUT


async def start(host, path: str, payload=None) -> dict:
    kwargs = {} if payload is None else {"json": payload}
    status, body, headers = await host.request("POST", path, **kwargs)
    assert status == 202, body
    links = json.loads(body)
    assert headers["Location"] == links["statusQueryGetUri"]
    return links


async def test_orchestration_function_chaining_through_check_status_urls(make_host) -> None:
    """The quickstart's starter answers 202 with links; polling statusQueryGetUri gives output."""
    host = await make_host("durable_chaining")
    links = await start(host, "/api/orchestrators/hello_orchestrator")
    assert links["statusQueryGetUri"].startswith(host.url + API + "/instances/" + links["id"])
    assert set(links) >= {"id", "sendEventPostUri", "terminatePostUri", "purgeHistoryDeleteUri",
                          "restartPostUri", "suspendPostUri", "resumePostUri"}
    done = await poll_status(host.session, links["statusQueryGetUri"])
    assert done["runtimeStatus"] == "Completed"
    assert done["output"] == ["Hello Seattle", "Hello Tokyo", "Hello London"]
    assert done["name"] == "hello_orchestrator" and done["createdTime"].endswith("Z")
    async with host.session.get(links["statusQueryGetUri"]) as response:
        assert response.status == 200 and "Location" not in response.headers


async def test_orchestration_fan_out_fan_in_with_history(make_host) -> None:
    """task_all runs the activities in parallel; showHistory lists each with its output."""
    host = await make_host("durable_chaining")
    links = await start(host, "/api/orchestrators/count_cities", ["Oslo", "Lima", "Tokyo"])
    await poll_status(host.session, links["statusQueryGetUri"])
    url = links["statusQueryGetUri"] + "&showHistory=true&showHistoryOutput=true"
    async with host.session.get(url) as response:
        done = await response.json()
    assert done["output"] == {"counts": [4, 4, 5], "total": 13}
    assert done["customStatus"] == {"cities": 3}
    events = done["historyEvents"]
    assert [e["EventType"] for e in events] == ["ExecutionStarted", "TaskCompleted",
                                                "TaskCompleted", "TaskCompleted",
                                                "TaskCompleted", "ExecutionCompleted"]
    assert sorted(e["Result"] for e in events[1:4]) == [4, 4, 5]
    assert {e["FunctionName"] for e in events[1:4]} == {"count_letters"}
    assert events[-1]["OrchestrationStatus"] == "Completed"


async def test_orchestration_running_status_is_202_with_retry_after(make_host) -> None:
    """While it waits, the status URL answers 202 with Location and Retry-After."""
    host = await make_host("durable_features")
    links = await start(host, "/api/start/wait_forever")
    await poll_status(host.session, links["statusQueryGetUri"], ("Running",), custom="waiting")
    async with host.session.get(links["statusQueryGetUri"]) as response:
        assert response.status == 202
        assert response.headers["Retry-After"] == "5" and "Location" in response.headers
    send = links["sendEventPostUri"].replace("{eventName}", "go")
    async with host.session.post(send, json={"ok": True}) as response:
        assert response.status == 202
    done = await poll_status(host.session, links["statusQueryGetUri"])
    assert done["output"] == {"ok": True}
    async with host.session.post(send, json={}) as response:
        assert response.status == 410


async def test_orchestration_client_raise_status_terminate_purge(make_host) -> None:
    """The SDK client's raise_event, get_status(show_history), terminate and purge all work."""
    host = await make_host("durable_features")
    first = await start(host, "/api/start/wait_forever/first-one")
    assert first["id"] == "first-one"
    await poll_status(host.session, first["statusQueryGetUri"], ("Running",), custom="waiting")
    status, body, _ = await host.request("POST", "/api/manage/raise/first-one", json=[1, 2])
    assert status == 200
    done = await poll_status(host.session, first["statusQueryGetUri"])
    assert done["output"] == "[1, 2]"  # the SDK's raise_event arrives as JSON text, as on Azure
    status, body, _ = await host.request("POST", "/api/manage/status/first-one")
    shown = json.loads(body)
    assert shown["runtimeStatus"] == "Completed"
    assert "EventRaised" in [e["EventType"] for e in shown["historyEvents"]]

    second = await start(host, "/api/start/wait_forever")
    await poll_status(host.session, second["statusQueryGetUri"], ("Running",), custom="waiting")
    await host.request("POST", f"/api/manage/terminate/{second['id']}")
    ended = await poll_status(host.session, second["statusQueryGetUri"])
    assert (ended["runtimeStatus"], ended["output"]) == ("Terminated", "no longer needed")
    terminate = second["terminatePostUri"].replace("{text}", "again")
    async with host.session.post(terminate) as response:
        assert response.status == 410
    status, body, _ = await host.request("POST", f"/api/manage/purge/{second['id']}")
    assert json.loads(body) == 1
    async with host.session.get(second["statusQueryGetUri"]) as response:
        assert response.status == 404
    async with host.session.delete(second["purgeHistoryDeleteUri"]) as response:
        assert response.status == 404


async def test_orchestration_continue_as_new_and_custom_status(make_host) -> None:
    """continue_as_new restarts with the new input until the countdown returns."""
    host = await make_host("durable_features")
    links = await start(host, "/api/start/countdown", 3)
    done = await poll_status(host.session, links["statusQueryGetUri"])
    assert (done["runtimeStatus"], done["output"]) == ("Completed", "liftoff")
    assert done["customStatus"] == {"left": 0}
    assert done["input"] == "0"  # the last execution's input, as the SDK serialized it


async def test_orchestration_calls_and_signals_entities(make_host) -> None:
    """signal_entity and call_entity reach the entity; an entity error raises in the caller."""
    host = await make_host("durable_features")
    links = await start(host, "/api/start/use_entity", "shared")
    done = await poll_status(host.session, links["statusQueryGetUri"])
    assert done["runtimeStatus"] == "Completed", done
    assert done["output"]["total"] == 7
    assert "tally refuses" in done["output"]["failed"]
    _, body, _ = await host.request("POST", "/api/manage/entity/shared")
    assert json.loads(body) == 7


async def test_orchestration_nondeterministic_replay_fails_like_the_extension(make_host) -> None:
    """Code that schedules something else on replay fails with DTFx's message."""
    host = await make_host("durable_features")
    links = await start(host, "/api/start/forgetful")
    done = await poll_status(host.session, links["statusQueryGetUri"])
    assert done["runtimeStatus"] == "Failed"
    assert done["output"].startswith("Non-Deterministic workflow detected: A previous execution "
                                     "of this orchestration scheduled an activity task named "
                                     "'tick' with sequence number 0")
    assert "instead scheduled an activity task named 'tock'" in done["output"]


async def test_orchestration_failures_name_the_function(make_host) -> None:
    """An unknown activity and a raising activity fail the instance with the extension's text."""
    host = await make_host("durable_features")
    missing = await start(host, "/api/start/call_missing")
    failing = await start(host, "/api/start/call_failing")
    done = await poll_status(host.session, missing["statusQueryGetUri"])
    assert done["runtimeStatus"] == "Failed"
    assert done["output"] == (
        "Orchestrator function 'call_missing' failed: The function 'no_such_activity' doesn't "
        "exist, is disabled, or is not an activity function. Additional info: The following are "
        "the known activity functions: 'sleepy', 'tick', 'tock', 'explode'.")
    done = await poll_status(host.session, failing["statusQueryGetUri"])
    assert done["runtimeStatus"] == "Failed"
    assert done["output"].startswith("Orchestrator function 'call_failing' failed: Activity "
                                     "function 'explode' failed: ValueError: boom")
    async with host.session.get(failing["statusQueryGetUri"]
                                + "&returnInternalServerErrorOnFailure=true") as response:
        assert response.status == 500


async def test_orchestration_sub_orchestration_and_activity_retry(make_host) -> None:
    """A declined card is retried as a sub-orchestration; a busy mail server as an activity."""
    host = await make_host("durable_retry")
    order = {"id": "o-1", "amount": 12, "declines": 2}
    links = await start(host, "/api/orders", order)
    done = await poll_status(host.session, links["statusQueryGetUri"])
    assert done["runtimeStatus"] == "Completed", done
    assert done["output"] == {"receipt": {"order": "o-1", "charged": 12, "attempts": 3},
                              "notice": "receipt for o-1 sent"}


async def test_orchestration_retry_gives_up_after_max_attempts(make_host) -> None:
    """When every attempt fails the orchestration fails with the last error."""
    host = await make_host("durable_retry")
    links = await start(host, "/api/orders", {"id": "o-2", "amount": 1, "declines": 5})
    done = await poll_status(host.session, links["statusQueryGetUri"])
    assert done["runtimeStatus"] == "Failed"
    assert "card declined (attempt 3)" in done["output"]
    url = links["statusQueryGetUri"] + "&showHistory=true"
    async with host.session.get(url) as response:
        events = (await response.json())["historyEvents"]
    kinds = [e["EventType"] for e in events]
    assert kinds.count("SubOrchestrationInstanceFailed") == 3
    assert kinds.count("TimerFired") == 3  # two waits between attempts and one after the last


async def test_orchestration_start_refusals(make_host) -> None:
    """Unknown orchestrators, bad ids and running duplicates are refused as Azure refuses them."""
    host = await make_host("durable_features")
    status, body, _ = await host.request("POST", f"{API}/orchestrators/nope")
    assert status == 400
    assert "The function 'nope' doesn't exist" in json.loads(body)["ExceptionMessage"]
    status, body, _ = await host.request("POST", f"{API}/orchestrators/wait_forever/@bad")
    assert status == 400
    status, body, _ = await host.request("POST", f"{API}/orchestrators/wait_forever/twice")
    assert status == 202 and json.loads(body)["id"] == "twice"
    status, body, _ = await host.request("POST", f"{API}/orchestrators/wait_forever/twice")
    assert status == 500 and "already exists" in json.loads(body)["ExceptionMessage"]
    status, body, _ = await host.request("POST", f"{API}/orchestrators/wait_forever",
                                         data=b"{not json")
    assert status == 400
    assert (await host.request("GET", f"{API}/instances/unknown"))[0] == 404
    assert (await host.request("POST", f"{API}/instances/unknown/terminate"))[0] == 404
    assert (await host.request("POST", f"{API}/instances/unknown/raiseEvent/x", json=1))[0] == 404
    status, _, _ = await host.request("POST", f"{API}/instances/twice/raiseEvent/go", data="x")
    assert status == 400  # only application/json events


async def test_orchestration_list_suspend_resume(make_host) -> None:
    """Instances are listed with filters and pages; suspend holds events until resume."""
    host = await make_host("durable_features")
    for name in ("a1", "a2", "a3"):
        await host.request("POST", f"{API}/orchestrators/wait_forever/{name}")
    for name in ("a1", "a2", "a3"):
        await poll_status(host.session, f"{host.url}{API}/instances/{name}", ("Running",),
                          custom="waiting")
    status, body, headers = await host.request("GET", f"{API}/instances/?top=2"
                                                      "&runtimeStatus=Running")
    assert status == 200 and [i["instanceId"] for i in json.loads(body)] == ["a1", "a2"]
    token = headers["x-ms-continuation-token"]
    status, body, headers = await host.request(
        "GET", f"{API}/instances/?top=2", headers={"x-ms-continuation-token": token})
    assert [i["instanceId"] for i in json.loads(body)] == ["a3"]
    assert "x-ms-continuation-token" not in headers

    assert (await host.request("POST", f"{API}/instances/a1/suspend?reason=hold"))[0] == 202
    await poll_status(host.session, f"{host.url}{API}/instances/a1", ("Suspended",))
    await host.request("POST", f"{API}/instances/a1/raiseEvent/go", json="later")
    assert (await host.request("POST", f"{API}/instances/a1/resume"))[0] == 202
    done = await poll_status(host.session, f"{host.url}{API}/instances/a1")
    assert done["output"] == "later"


async def test_orchestration_wait_restart_list_and_purge_by_filter(make_host) -> None:
    """Start-and-wait answers with the output; restart reruns with the same input; the SDK's
    wait_for_completion and get_status_by work; purging by creation time removes them."""
    host = await make_host("durable_features")
    status, body, _ = await host.request(
        "POST", f"{API}/orchestrators/countdown/rocket?timeout=5&pollingInterval=0.05", json="1")
    assert (status, json.loads(body)) == (200, "liftoff")
    status, body, _ = await host.request(
        "POST", f"{API}/instances/rocket/restart?restartWithNewInstanceId=false")
    assert status == 202 and json.loads(body)["id"] == "rocket"
    await poll_status(host.session, f"{host.url}{API}/instances/rocket")
    status, body, _ = await host.request("POST", f"{API}/instances/rocket/restart")
    copy = json.loads(body)["id"]
    assert status == 202 and copy != "rocket"
    status, body, _ = await host.request("POST", f"/api/manage/wait/{copy}")
    assert (status, body) == (200, b"liftoff")  # the SDK writes a str output unquoted
    status, body, _ = await host.request("POST", "/api/manage/list/any")
    assert json.loads(body) == sorted([copy, "rocket"])
    since = "2000-01-01T00:00:00Z"
    assert (await host.request("DELETE", f"{API}/instances/"))[0] == 400
    status, body, _ = await host.request(
        "DELETE", f"{API}/instances/?createdTimeFrom={since}&runtimeStatus=Completed")
    assert (status, json.loads(body)) == (200, {"instancesDeleted": 2})
    status, _, _ = await host.request("DELETE", f"{API}/instances/?createdTimeFrom={since}")
    assert status == 404


async def test_orchestration_host_stops_cleanly_mid_activity(tmp_path, caplog) -> None:
    """Stopping the host while an activity runs and an orchestration waits leaves no task
    behind and logs no warning; the work stays queued for the next start."""
    caplog.set_level(logging.INFO)
    app = make_app(HostConfig(app_dir=APPS / "durable_features", data_dir=tmp_path,
                              settings={"AzureWebJobsStorage": "UseDevelopmentStorage=true"}))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.create_server(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{url}/api/start/slow_step", json=0.3) as reply:
                assert reply.status == 202
            async with http.post(f"{url}/api/start/wait_forever") as reply:
                assert reply.status == 202
        durable = app[DURABLE]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TIMEOUT
        while not durable.activities:
            assert loop.time() < deadline
            await asyncio.sleep(0.01)
    finally:
        await runner.cleanup()
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()
              and "durable" in t.get_name()]
    assert others == []
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "they run again when the host starts" in caplog.text
