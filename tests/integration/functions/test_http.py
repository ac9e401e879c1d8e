"""HTTP triggers and the signalRConnectionInfo input, through real HTTP against the host."""

from __future__ import annotations

import json
import logging

import aiohttp
import jwt
import pytest

ACCESS_KEY = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH"

SETTINGS = {
    "HUB_NAME": "Chat",
    "AzureSignalRConnectionString":
        f"Endpoint=http://localhost:8888;AccessKey={ACCESS_KEY};Version=1.0;",
}


async def test_host_http_route_parameter_query_and_headers(make_host) -> None:
    """A GET on a route with an {id:int} parameter reaches the function with every request part."""
    host = await make_host("basic", SETTINGS)
    status, body, headers = await host.request("GET", "/api/ITEMS/42?q=a&q=b&empty=",
                                               headers={"X-Test": "yes"})
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    data = json.loads(body)
    assert data["id"] == "42"
    assert data["q"] == "a,b"
    assert data["header"] == "yes"
    assert data["method"] == "GET"
    assert data["url"] == f"{host.url}/api/ITEMS/42?q=a&q=b&empty="


async def test_host_http_constraint_mismatch_is_404(make_host) -> None:
    """A route value that breaks its constraint finds no function."""
    host = await make_host("basic", SETTINGS)
    status, _, _ = await host.request("GET", "/api/items/abc")
    assert status == 404


async def test_host_http_wrong_method_is_404(make_host) -> None:
    """A method the function does not list finds no function."""
    host = await make_host("basic", SETTINGS)
    status, _, _ = await host.request("DELETE", "/api/items/1")
    assert status == 404


async def test_host_http_async_function_returns_str(make_host) -> None:
    """An async def returning str answers 200 text/plain."""
    host = await make_host("basic", SETTINGS)
    status, body, headers = await host.request("POST", "/api/echo", data=b"hello")
    assert (status, body) == (200, b"echo:hello")
    assert headers["Content-Type"].startswith("text/plain")


async def test_host_http_exception_is_500_with_invocation_id_logged(make_host, caplog) -> None:
    """A raising function gives the caller 500 and the log names the invocation id."""
    host = await make_host("basic", SETTINGS)
    with caplog.at_level(logging.INFO, logger="emulator.functions"):
        status, body, _ = await host.request("GET", "/api/fail")
    assert status == 500
    assert b"deliberate" not in body
    messages = [r for r in caplog.records if r.name.startswith("emulator.functions")]
    executing = [r for r in messages if r.getMessage().startswith("Executing 'Functions.fail'")]
    failed = [r for r in caplog.records if "(Failed, Id=" in r.getMessage()]
    assert executing and failed
    invocation_id = executing[0].args[2]
    assert invocation_id in failed[0].getMessage()
    assert "Traceback (most recent call last)" in failed[0].getMessage()
    assert "RuntimeError: deliberate failure" in failed[0].getMessage()


async def test_host_negotiate_returns_connection_info(make_host) -> None:
    """Negotiate gives the client URL (hub lower-cased) and a token for that audience and user."""
    host = await make_host("basic", SETTINGS)
    status, body, _ = await host.request("POST", "/api/negotiate",
                                         headers={"x-ms-client-principal-name": "alice"})
    assert status == 200
    assert body.startswith(b"{\n  ")  # indented, as JObject.ToString() writes it
    info = json.loads(body)
    assert info["url"] == "http://localhost:8888/client/?hub=chat"
    claims = jwt.decode(info["accessToken"], ACCESS_KEY.encode(), algorithms=["HS256"],
                        audience="http://localhost/client/?hub=chat")
    assert claims["asrs.s.uid"] == "alice"
    assert claims["exp"] - claims["iat"] == 3600


async def test_host_negotiate_missing_header_fails_invocation(make_host, caplog) -> None:
    """A {headers.x} expression with no such header fails the invocation with 500 and a log line."""
    host = await make_host("basic", SETTINGS)
    with caplog.at_level(logging.INFO, logger="emulator.functions"):
        status, _, _ = await host.request("POST", "/api/negotiate")
    assert status == 500
    assert any("x-ms-client-principal-name': property doesn't exist" in r.getMessage()
               for r in caplog.records)


@pytest.mark.parametrize("body", [
    json.dumps({"target": "newMessage", "arguments": ["hi"]}),
    json.dumps([{"Target": "newMessage", "Arguments": ["hi"], "GroupName": "g1"},
                {"action": "add", "groupName": "g1", "userId": "bob"}]),
])
async def test_host_signalr_output_calls_rest_api(make_host, rest_recorder, body) -> None:
    """The signalR output is sent to the service's REST API with a token for the request URL."""
    settings = {**SETTINGS, "AzureSignalRConnectionString":
                f"Endpoint={rest_recorder.url};AccessKey={ACCESS_KEY};Version=1.0;"}
    host = await make_host("basic", settings)
    status, text, _ = await host.request("POST", "/api/send", data=body)
    assert (status, text) == (200, b"sent")
    items = json.loads(body)
    items = items if isinstance(items, list) else [items]
    assert len(rest_recorder.requests) == len(items)
    first = rest_recorder.requests[0]
    assert first["method"] == "POST"
    assert first["query"] == {"api-version": "2022-06-01"}
    assert json.loads(first["body"]) == {"Target": "newMessage", "Arguments": ["hi"]}
    token = first["headers"]["Authorization"].removeprefix("Bearer ")
    expected_aud = f"http://127.0.0.1{first['path']}?api-version=2022-06-01"
    jwt.decode(token, ACCESS_KEY.encode(), algorithms=["HS256"], audience=expected_aud)
    if len(items) == 1:
        assert first["path"] == "/api/hubs/chat/:send"
    else:
        assert first["path"] == "/api/hubs/chat/groups/g1/:send"
        second = rest_recorder.requests[1]
        assert (second["method"], second["path"]) == ("PUT", "/api/hubs/chat/users/bob/groups/g1")


async def test_host_signalr_output_service_error_fails_invocation(make_host, rest_recorder) -> None:
    """A non-2xx answer from the service turns the HTTP response into a 500."""
    rest_recorder.status = 404
    settings = {**SETTINGS, "AzureSignalRConnectionString":
                f"Endpoint={rest_recorder.url};AccessKey={ACCESS_KEY};Version=1.0;"}
    host = await make_host("basic", settings)
    status, _, _ = await host.request("POST", "/api/send",
                                      data=json.dumps({"target": "t", "arguments": []}))
    assert status == 500
    assert len(rest_recorder.requests) == 1


async def test_host_signalr_output_malformed_value_fails_invocation(make_host,
                                                                   rest_recorder) -> None:
    """An output that is neither a message nor a group action is a 500 and nothing is sent."""
    settings = {**SETTINGS, "AzureSignalRConnectionString":
                f"Endpoint={rest_recorder.url};AccessKey={ACCESS_KEY};Version=1.0;"}
    host = await make_host("basic", settings)
    status, _, _ = await host.request("POST", "/api/send", data=b'{"hello": 1}')
    assert status == 500
    assert rest_recorder.requests == []


async def test_host_starts_no_function_once_drained_and_leaves_the_request_unanswered(
    make_host, host_logs
) -> None:
    """Once the host stopping has drained its invocations, a request it still reads starts no
    function: the connection closes with no answer, so the caller can send it again (to the
    host that starts next on a restart), instead of a function running in a host going away."""
    host = await make_host("basic", SETTINGS)
    assert host.runner is not None
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as http:
        async with http.post(f"{host.url}/api/echo", data=b"one") as reply:
            assert (reply.status, await reply.read()) == (200, b"echo:one")
        await host.runner.shutdown()  # the drain, while the site still listens
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await http.post(f"{host.url}/api/echo", data=b"two")  # on the kept-alive connection
    assert len(host_logs.matching(r"Executing 'Functions\.echo'")) == 1
