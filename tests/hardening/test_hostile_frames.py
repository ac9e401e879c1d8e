"""Hostile WebSocket traffic: malformed and huge frames, invalid UTF-8, a wrong
handshake, unknown message types.

The offending connection is closed with an error message (a hub Close, a handshake error, or a
WebSocket close code for what breaks the WebSocket itself); every other connection keeps
chatting and the service keeps running.
"""

from __future__ import annotations

import json
import logging

import aiohttp
import pytest
from aiohttp import WSMsgType

from tests.hardening.chat_client import RS, ChatClient, negotiate_with_app, open_socket
from tests.hardening.conftest import StackFactory
from tests.hardening.local_stack import LocalStack
from tests.support.timeouts import TIMEOUT

MAX_MESSAGE = 64 * 1024


async def _others_unaffected(stack: LocalStack, http: aiohttp.ClientSession,
                             bystander: ChatClient, text: str) -> None:
    sender = await ChatClient.connect(http, stack.api_url, "sender")
    await sender.invoke("broadcast", text)
    await bystander.wait_for_message(text)
    assert not bystander.closed.is_set()
    await sender.close()


async def _closed_with_error(attacker: ChatClient) -> str:
    """The hub Close's error (the service also ends the WebSocket)."""
    await attacker.wait_for(lambda c: c.closed.is_set())
    assert attacker.close_message is not None, "no Close message before the socket ended"
    error = attacker.close_message.get("error")
    assert error, attacker.close_message
    return str(error)


_BAD_RECORDS = {
    "not JSON": ("{this is not json" + RS, "not valid JSON"),
    "not an object": ("[1,2,3]" + RS, "not a JSON object"),
    "unknown type": (json.dumps({"type": 99}) + RS, "unknown message type 99"),
    "no type": (json.dumps({"target": "broadcast", "arguments": []}) + RS, "type"),
    "bad arguments": (json.dumps({"type": 1, "target": "broadcast", "arguments": 5}) + RS,
                      "arguments"),
    "number overflow": ('{"type":1,"target":"broadcast","arguments":[1e999]}' + RS, "range"),
    "deep nesting": ('{"type":1,"target":"b","arguments":' + "[" * 5000 + "]" * 5000 + "}" + RS,
                     "not valid JSON"),
}


@pytest.mark.parametrize("case", list(_BAD_RECORDS))
async def test_service_closes_connection_on_malformed_message(
    make_local_stack: StackFactory, http: aiohttp.ClientSession, case: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A malformed record closes that connection with a reason; the others chat on."""
    caplog.set_level(logging.INFO)
    stack = await make_local_stack(max_message_size=MAX_MESSAGE)
    bystander = await ChatClient.connect(http, stack.api_url, "bystander")
    attacker = await ChatClient.connect(http, stack.api_url, "attacker")
    record, reason = _BAD_RECORDS[case]
    await attacker.send_raw(record)
    assert reason in await _closed_with_error(attacker)
    assert any(r.levelno >= logging.WARNING and attacker.connection_id in r.getMessage()
               and reason in r.getMessage() for r in caplog.records), "the refusal was not logged"
    await _others_unaffected(stack, http, bystander, f"still here after {case}")
    await bystander.close()


async def test_service_closes_connection_on_invalid_utf8(
    make_local_stack: StackFactory, http: aiohttp.ClientSession
) -> None:
    """Bytes that are not UTF-8 on a JSON connection: closed with 'not valid UTF-8'."""
    stack = await make_local_stack(max_message_size=MAX_MESSAGE)
    bystander = await ChatClient.connect(http, stack.api_url, "bystander")
    attacker = await ChatClient.connect(http, stack.api_url, "attacker")
    await attacker.send_raw(b'{"type":1,"target":"broadcast","arguments":["\xff\xfe"]}\x1e')
    assert "UTF-8" in await _closed_with_error(attacker)
    await _others_unaffected(stack, http, bystander, "after bad bytes")
    await bystander.close()


async def test_service_closes_connection_on_invalid_utf8_text_frame(
    make_local_stack: StackFactory, http: aiohttp.ClientSession
) -> None:
    """A WebSocket text frame that is not UTF-8 ends the socket with close code 1007."""
    stack = await make_local_stack(max_message_size=MAX_MESSAGE)
    bystander = await ChatClient.connect(http, stack.api_url, "bystander")
    info = await negotiate_with_app(http, stack.api_url, "attacker")
    ws, _ = await open_socket(http, info["url"], info["accessToken"])
    await ws.send_str(json.dumps({"protocol": "json", "version": 1}) + RS)
    assert (await ws.receive(timeout=TIMEOUT)).data.startswith("{}")
    await ws._writer.send_frame(b"\xff\xfe\x1e", WSMsgType.TEXT)  # send_str would encode it
    frames = [await ws.receive(timeout=TIMEOUT)]
    while frames[-1].type not in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.ERROR):
        frames.append(await ws.receive(timeout=TIMEOUT))
    assert ws.close_code == 1007, frames
    await _others_unaffected(stack, http, bystander, "after a bad text frame")
    await bystander.close()


async def test_service_closes_connection_on_message_over_size_limit(
    make_local_stack: StackFactory, http: aiohttp.ClientSession
) -> None:
    """A record over the maximum message size: closed with a reason, nothing forwarded."""
    stack = await make_local_stack(max_message_size=MAX_MESSAGE)
    bystander = await ChatClient.connect(http, stack.api_url, "bystander")
    attacker = await ChatClient.connect(http, stack.api_url, "attacker")
    huge = json.dumps({"type": 1, "target": "broadcast", "arguments": ["x" * MAX_MESSAGE]})
    await attacker.send_raw(huge + RS)
    assert "larger than" in await _closed_with_error(attacker)
    await _others_unaffected(stack, http, bystander, "after a huge message")
    assert all(len(m.get("text", "")) < MAX_MESSAGE for m in bystander.messages())
    await bystander.close()


async def test_service_closes_connection_on_endless_record(
    make_local_stack: StackFactory, http: aiohttp.ClientSession
) -> None:
    """Many frames that never finish a record cannot grow the buffer past the limit."""
    stack = await make_local_stack(max_message_size=MAX_MESSAGE)
    bystander = await ChatClient.connect(http, stack.api_url, "bystander")
    attacker = await ChatClient.connect(http, stack.api_url, "attacker")
    chunk = "y" * 8192
    for _ in range(MAX_MESSAGE // len(chunk) + 2):
        if attacker.closed.is_set():
            break
        await attacker.send_raw(chunk)
    assert "larger than" in await _closed_with_error(attacker)
    await _others_unaffected(stack, http, bystander, "after an endless record")
    await bystander.close()


async def test_service_closes_socket_on_frame_over_websocket_limit(
    make_local_stack: StackFactory, http: aiohttp.ClientSession
) -> None:
    """One WebSocket frame far over the limit ends the socket with close code 1009."""
    stack = await make_local_stack(max_message_size=MAX_MESSAGE)
    bystander = await ChatClient.connect(http, stack.api_url, "bystander")
    attacker = await ChatClient.connect(http, stack.api_url, "attacker")
    await attacker.send_raw("z" * (4 * MAX_MESSAGE + 1))
    await attacker.wait_for(lambda c: c.closed.is_set())
    assert attacker.ws.close_code == 1009
    await _others_unaffected(stack, http, bystander, "after a giant frame")
    await bystander.close()


@pytest.mark.parametrize(("handshake", "reason"), [
    ('{"protocol":"xml","version":1}', "Requested protocol 'xml' is not available."),
    ('{"protocol":"json"}', "Missing required property 'version'."),
    ("not json at all", "Handshake request is not valid JSON."),
    ('{"protocol":"json","version":99}', "does not support version 99"),
])
async def test_service_answers_wrong_handshake_with_error_and_closes(
    make_local_stack: StackFactory, http: aiohttp.ClientSession, handshake: str, reason: str
) -> None:
    """A wrong handshake gets ``{"error": ...}`` and the socket closes; others chat on."""
    stack = await make_local_stack(max_message_size=MAX_MESSAGE)
    bystander = await ChatClient.connect(http, stack.api_url, "bystander")
    info = await negotiate_with_app(http, stack.api_url, "attacker")
    ws, _ = await open_socket(http, info["url"], info["accessToken"])
    await ws.send_str(handshake + RS)
    answer = await ws.receive(timeout=TIMEOUT)
    assert answer.type == WSMsgType.TEXT
    assert reason in json.loads(answer.data.rstrip(RS))["error"]
    assert (await ws.receive(timeout=TIMEOUT)).type in (WSMsgType.CLOSE, WSMsgType.CLOSED)
    await _others_unaffected(stack, http, bystander, "after a bad handshake")
    await bystander.close()
