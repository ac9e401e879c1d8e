"""The SignalR trigger webhook /runtime/webhooks/signalr, through real HTTP against the host."""

from __future__ import annotations

import json
import sys

import msgpack
import pytest

from emulator.contracts import sign_connection_id

ACCESS_KEY = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH"
SETTINGS = {
    "HUB_NAME": "Chat",
    "AzureSignalRConnectionString":
        f"Endpoint=http://localhost:8888;AccessKey={ACCESS_KEY};Version=1.0;",
}
WEBHOOK = "/runtime/webhooks/signalr"


def upstream_headers(category: str, event: str, *, key: str = ACCESS_KEY,
                     connection_id: str = "conn1", **extra: str) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "X-ASRS-Hub": "chat",
        "X-ASRS-Category": category,
        "X-ASRS-Event": event,
        "X-ASRS-Connection-Id": connection_id,
        "X-ASRS-Signature": sign_connection_id(connection_id, [key]),
        "X-ASRS-User-Id": "alice",
    }
    headers.update(extra)
    return headers


def invocation(target: str, arguments: list, invocation_id: str | None = "7") -> bytes:
    """The body the service sends: the invocation without the record separator
    (docs/serverless-contracts.md, "Bodies")."""
    message = {"type": 1, "target": target, "arguments": arguments}
    if invocation_id is not None:
        message["invocationId"] = invocation_id
    return json.dumps(message).encode()


def calls() -> list:
    return sys.modules["function_app"].CALLS


async def test_host_webhook_returns_completion_with_result(make_host) -> None:
    """An invoke() with an id gets the function's return value as a JSON completion."""
    host = await make_host("basic", SETTINGS)
    status, body, _ = await host.request(
        "POST", WEBHOOK, data=invocation("Echo", ["hi"]),
        headers=upstream_headers("messages", "ECHO", **{"X-ASRS-Client-Query": "?a=1&a=2"}))
    assert status == 200
    assert body.endswith(b"\x1e")
    assert json.loads(body[:-1]) == {"type": 3, "invocationId": "7", "result": "you said hi"}
    name, context = calls()[-1]
    assert name == "echo"
    assert list(context) == ["Arguments", "Error", "Category", "Event", "Hub", "ConnectionId",
                             "UserId", "Headers", "Query", "Claims"]
    assert context["Arguments"] == ["hi"]
    assert (context["Hub"], context["ConnectionId"], context["UserId"]) == ("chat", "conn1",
                                                                            "alice")
    assert context["Query"] == {"a": "1,2"}
    assert "Content-Type" not in context["Headers"]
    assert context["Headers"]["X-ASRS-Event"] == "ECHO"


async def test_host_webhook_send_without_id_gets_empty_200(make_host) -> None:
    """A send() (no invocation id) is answered 200 with no body."""
    host = await make_host("basic", SETTINGS)
    status, body, _ = await host.request("POST", WEBHOOK,
                                         data=invocation("echo", ["x"], invocation_id=None),
                                         headers=upstream_headers("messages", "echo"))
    assert (status, body) == (200, b"")
    assert calls()[-1][0] == "echo"


async def test_host_webhook_exception_becomes_completion_error(make_host) -> None:
    """A raising trigger gives the caller a completion with an error, not a result."""
    host = await make_host("basic", SETTINGS)
    status, body, _ = await host.request("POST", WEBHOOK, data=invocation("boom", []),
                                         headers=upstream_headers("messages", "boom"))
    assert status == 200
    completion = json.loads(body[:-1])
    assert completion["type"] == 3 and completion["invocationId"] == "7"
    assert "result" not in completion
    assert "ValueError: boom went wrong" in completion["error"]


@pytest.mark.parametrize("framed", [False, True])
async def test_host_webhook_messagepack_completion(make_host, framed) -> None:
    """A MessagePack upstream call is answered with a length-prefixed MessagePack completion."""
    host = await make_host("basic", SETTINGS)
    packed = msgpack.packb([1, {}, "9", "echo", ["mp"]])
    body = bytes([len(packed)]) + packed if framed else packed
    headers = upstream_headers("messages", "echo")
    headers["Content-Type"] = "application/x-msgpack"
    status, reply, _ = await host.request("POST", WEBHOOK, data=body, headers=headers)
    assert status == 200
    assert reply[0] == len(reply) - 1
    assert msgpack.unpackb(reply[1:]) == [3, {}, "9", 3, "you said mp"]


async def test_host_webhook_wrong_signature_is_401_and_function_does_not_run(make_host) -> None:
    """A forged signature is refused with 401 and the trigger never runs."""
    host = await make_host("basic", SETTINGS)
    before = len(calls())
    status, _, _ = await host.request("POST", WEBHOOK, data=invocation("echo", ["x"]),
                                      headers=upstream_headers("messages", "echo",
                                                               key="wrong-key"))
    assert status == 401
    assert len(calls()) == before


async def test_host_webhook_signature_for_other_connection_is_401(make_host) -> None:
    """A signature made for another connection id does not pass."""
    host = await make_host("basic", SETTINGS)
    headers = upstream_headers("messages", "echo")
    headers["X-ASRS-Connection-Id"] = "someone-else"
    before = len(calls())
    status, _, _ = await host.request("POST", WEBHOOK, data=invocation("echo", ["x"]),
                                      headers=headers)
    assert status == 401
    assert len(calls()) == before


@pytest.mark.parametrize(("change", "expected"), [
    ({"Content-Type": "text/plain"}, 415),
    ({"X-ASRS-Hub": ""}, 400),
    ({"X-ASRS-Event": "nosuchevent"}, 404),
    ({"X-ASRS-Hub": "otherhub"}, 404),
])
async def test_host_webhook_refusals(make_host, change, expected) -> None:
    """Bad content type, missing headers and unknown routes get their precise status."""
    host = await make_host("basic", SETTINGS)
    headers = {**upstream_headers("messages", "echo"), **change}
    before = len(calls())
    status, _, _ = await host.request("POST", WEBHOOK, data=invocation("echo", ["x"]),
                                      headers=headers)
    assert status == expected
    assert len(calls()) == before


async def test_host_webhook_target_mismatch_is_refused(make_host) -> None:
    """A body whose target differs from X-ASRS-Event does not run the function."""
    host = await make_host("basic", SETTINGS)
    before = len(calls())
    status, _, _ = await host.request("POST", WEBHOOK, data=invocation("other", ["x"]),
                                      headers=upstream_headers("messages", "echo"))
    assert status == 400
    assert len(calls()) == before


async def test_host_webhook_parameter_names_count_mismatch_fails(make_host) -> None:
    """Two arguments for one parameterName fail the invocation with a completion error."""
    host = await make_host("basic", SETTINGS)
    before = len(calls())
    status, body, _ = await host.request("POST", WEBHOOK, data=invocation("echo", ["a", "b"]),
                                         headers=upstream_headers("messages", "echo"))
    assert status == 200
    assert "parameterNames" in json.loads(body[:-1])["error"]
    assert len(calls()) == before


async def test_host_webhook_connected_sends_output_and_failure_is_403(make_host,
                                                                      rest_recorder) -> None:
    """connected: success is 200 and its output is sent; a raising function gives 403."""
    settings = {**SETTINGS, "AzureSignalRConnectionString":
                f"Endpoint={rest_recorder.url};AccessKey={ACCESS_KEY};Version=1.0;"}
    host = await make_host("basic", settings)
    ok = upstream_headers("connections", "connected", key=ACCESS_KEY)
    status, _, _ = await host.request("POST", WEBHOOK, data=b'{"type":10}\x1e', headers=ok)
    assert status == 200
    assert json.loads(rest_recorder.requests[0]["body"]) == {"Target": "newConnection",
                                                             "Arguments": ["conn1"]}
    denied = upstream_headers("connections", "connected", **{"X-ASRS-Client-Query": "deny=1"})
    status, _, _ = await host.request("POST", WEBHOOK, data=b'{"type":10}\x1e', headers=denied)
    assert status == 403
    assert len(rest_recorder.requests) == 1


async def test_host_webhook_requires_system_key_when_auth_enabled(make_host, tmp_path) -> None:
    """With --enable-auth the webhook needs the signalr_extension key (or the master key)."""
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"masterKey": "master", "systemKeys":
                                {"signalr_extension": "sys"}}))
    host = await make_host("basic", SETTINGS, enable_auth=True, keys_file=keys)
    data = invocation("echo", ["x"])
    headers = upstream_headers("messages", "echo")
    status, _, _ = await host.request("POST", WEBHOOK, data=data, headers=headers)
    assert status == 401
    status, _, _ = await host.request("POST", WEBHOOK + "?code=sys", data=data, headers=headers)
    assert status == 200
    status, _, _ = await host.request("POST", WEBHOOK, data=data,
                                      headers={**headers, "x-functions-key": "master"})
    assert status == 200


async def test_host_webhook_disconnected_gets_error_and_always_200(make_host) -> None:
    """disconnected: the close error reaches the function as Error; the answer is 200."""
    host = await make_host("disconnect", SETTINGS)
    status, body, _ = await host.request(
        "POST", WEBHOOK, data=b'{"type":11,"error":"connection lost"}',
        headers=upstream_headers("connections", "disconnected"))
    assert (status, body) == (200, b"")
    name, context = calls()[-1]
    assert name == "disconnected"
    assert (context["Error"], context["Arguments"], context["Event"]) == (
        "connection lost", None, "disconnected")
    # A failing disconnected function is still answered 200.
    status, _, _ = await host.request(
        "POST", WEBHOOK, data=b'{"type":11,"error":"raise"}',
        headers=upstream_headers("connections", "disconnected"))
    assert status == 200
    assert calls()[-1][1]["Error"] == "raise"


async def test_host_webhook_accepts_signature_of_any_configured_key(make_host) -> None:
    """A signature made with the key of another connection the app uses also passes."""
    other = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210ZYXWVU"
    settings = {**SETTINGS, "OtherConnection": f"Endpoint=http://other;AccessKey={other};"}
    host = await make_host("twokeys", settings)
    status, body, _ = await host.request("POST", WEBHOOK, data=invocation("ping", []),
                                         headers=upstream_headers("messages", "ping", key=other))
    assert (status, json.loads(body[:-1])["result"]) == (200, "pong")
    status, _, _ = await host.request("POST", WEBHOOK, data=invocation("ping", []),
                                      headers=upstream_headers("messages", "ping", key="nope"))
    assert status == 401
