"""Apps written the way users write them run unchanged on the host (tests/apps)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from emulator.contracts import sign_connection_id

ACCESS_KEY = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH"


def connection(endpoint: str) -> dict[str, str]:
    return {"AzureSignalRConnectionString":
            f"Endpoint={endpoint};AccessKey={ACCESS_KEY};Version=1.0;"}


async def test_quickstart_page_negotiate_and_timer_broadcast(host_logs, make_host,
                                                             rest_recorder) -> None:
    """The quickstart shape serves its page, negotiates, and its timer broadcasts a message."""
    host = await make_host("quickstart", connection(rest_recorder.url))
    assert host_logs.matching(r"The next 5 occurrences of the 'broadcast' schedule "
                              r"\(Cron: '\* \* \* \* \*'\)")
    status, page, headers = await host.request("GET", "/api/index")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b"newMessage" in page
    status, body, _ = await host.request("POST", "/api/negotiate")
    assert status == 200
    assert parse_qs(urlsplit(json.loads(body)["url"]).query) == {"hub": ["serverless"]}

    status, _, _ = await host.request("POST", "/admin/functions/broadcast", json={"input": ""})
    assert status == 202
    await host_logs.wait_for(r"Executed 'Functions\.broadcast' \(Succeeded")
    [sent] = rest_recorder.requests
    assert (sent["method"], sent["path"]) == ("POST", "/api/hubs/serverless/:send")
    assert json.loads(sent["body"]) == {
        "Target": "newMessage", "Arguments": ["This message was sent by a timer, run 1."]}


async def test_snake_case_app_runs_unchanged(host_logs, make_host, rest_recorder) -> None:
    """snake_case binding names work for negotiate, output, trigger and timer functions."""
    settings = {**connection(rest_recorder.url), "HEARTBEAT_SCHEDULE": "0 0 * * * *"}
    host = await make_host("snake_case", settings)
    assert not host_logs.matching("function is in error")
    assert host_logs.matching("binding name 'connection_info' has an underscore; Functions "
                              "hosts before 4.1038 refuse it")

    status, body, _ = await host.request("POST", "/api/negotiate?user_name=ada")
    assert status == 200 and "hub=chat" in json.loads(body)["url"]

    status, body, _ = await host.request("POST", "/api/messages", json={"text": "hi"})
    assert (status, body) == (200, b"sent")
    assert json.loads(rest_recorder.requests[0]["body"]) == {
        "Target": "new_message", "Arguments": ["hi"]}

    upstream = {"Content-Type": "application/json", "X-ASRS-Hub": "chat",
                "X-ASRS-Category": "messages", "X-ASRS-Event": "say_hello",
                "X-ASRS-Connection-Id": "c1",
                "X-ASRS-Signature": sign_connection_id("c1", [ACCESS_KEY])}
    message = {"type": 1, "invocationId": "5", "target": "say_hello", "arguments": ["ada"]}
    status, body, _ = await host.request("POST", "/runtime/webhooks/signalr", headers=upstream,
                                         data=json.dumps(message).encode())
    assert status == 200
    assert json.loads(body.rstrip(b"\x1e")) == {"type": 3, "invocationId": "5",
                                                "result": "hello ada"}

    await host_logs.wait_for(r"Executed 'Functions\.heartbeat' \(Succeeded")
    assert json.loads((await host.request("GET", "/api/heartbeats"))[1]) == [{"past_due": False}]
