"""What a client can hold of the stack is bounded: unfinished requests are closed, connections
are capped (per address and in total), bodies must arrive in time, and a client that never
reads is dropped, its socket released and its ``disconnected`` event sent."""

from __future__ import annotations

import asyncio
import resource
import signal
import socket
import time

import aiohttp
import pytest

from emulator.contracts import client_audience, issue_token
from emulator.serve import ConnectionLimits
from emulator.signalr.appkeys import SERVICE_KEY
from tests.hardening.chat_client import ChatClient
from tests.hardening.conftest import StackFactory
from tests.hardening.local_stack import KEY, LocalStack
from tests.support.processes import cli_process, read_until
from tests.support.timeouts import STOP_TIMEOUT, TIMEOUT

RS = "\x1e"


def _token(user: str) -> str:
    return issue_token(audience=client_audience("http://127.0.0.1", "chat"), key=KEY,
                       now=time.time(), user_id=user)


async def _closed_by_peer(reader: asyncio.StreamReader) -> bytes:
    """Everything the server still sends, up to its close."""
    return await asyncio.wait_for(reader.read(), TIMEOUT)


async def _bystander_chats(stack: LocalStack, http: aiohttp.ClientSession) -> None:
    client = await ChatClient.connect(http, stack.api_url, "bystander")
    await client.invoke("broadcast", "still here")
    await client.wait_for_message("still here")
    await client.close()


@pytest.mark.parametrize("server", ["service", "host"])
async def test_unfinished_requests_are_closed(
    make_local_stack: StackFactory, http: aiohttp.ClientSession, server: str
) -> None:
    """Half-sent requests (slowloris) are closed once the head timeout passes; a bystander
    chats throughout."""
    stack = await make_local_stack(connection_limits=ConnectionLimits(head_timeout=0.5))
    port = stack.service_port if server == "service" else stack.host_port
    held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(20)]
    for _reader, writer in held:
        writer.write(b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # never finished
        await writer.drain()
    await _bystander_chats(stack, http)
    for reader, writer in held:
        assert await _closed_by_peer(reader) == b""
        writer.close()
    assert stack.counter.total < len(held), "the closed connections are no longer counted"


async def test_connections_per_address_are_capped(
    make_local_stack: StackFactory, http: aiohttp.ClientSession
) -> None:
    """Past the cap a new connection gets a 503 that says why; closing one makes room."""
    stack = await make_local_stack(connection_limits=ConnectionLimits(max_per_address=4))
    idle = [await asyncio.open_connection("127.0.0.1", stack.service_port) for _ in range(4)]
    reader, writer = await asyncio.open_connection("127.0.0.1", stack.service_port)
    answer = await _closed_by_peer(reader)
    assert answer.startswith(b"HTTP/1.1 503") and b"too many connections from this address" in (
        answer)
    writer.close()
    _reader, first = idle.pop()
    first.close()
    await first.wait_closed()

    async def room() -> None:
        while stack.counter.total >= 4:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(room(), TIMEOUT)
    async with http.get(f"{stack.service_url}/api/health") as response:
        assert response.status == 200
    for _reader, other in idle:
        other.close()


async def test_a_trickled_send_body_is_ended(
    make_local_stack: StackFactory, http: aiohttp.ClientSession
) -> None:
    """A long-polling send whose body never completes gets 408 once the body timeout passes."""
    stack = await make_local_stack(body_timeout=0.5)
    async with http.post(f"{stack.service_url}/client/negotiate?hub=chat&negotiateVersion=1",
                         headers={"Authorization": f"Bearer {_token('ann')}"}) as response:
        token = (await response.json())["connectionToken"]
    url = f"/client/?hub=chat&id={token}&access_token={_token('ann')}"
    async with http.get(stack.service_url + url) as first:
        assert first.status == 200
    reader, writer = await asyncio.open_connection("127.0.0.1", stack.service_port)
    writer.write(f"POST {url} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{{".encode())
    await writer.drain()
    status = await asyncio.wait_for(reader.readline(), TIMEOUT)
    assert status.startswith(b"HTTP/1.1 408"), status
    writer.close()


async def _sse_that_never_reads(stack: LocalStack) -> tuple[str, str, socket.socket]:
    """An SSE connection past its handshake whose socket is never read again."""
    async with aiohttp.ClientSession() as http, http.post(
            f"{stack.service_url}/client/negotiate?hub=chat&negotiateVersion=1",
            headers={"Authorization": f"Bearer {_token('sloth')}"}) as response:
        body = await response.json()
    url = (f"/client/?hub=chat&id={body['connectionToken']}&access_token={_token('sloth')}")
    sock = socket.create_connection(("127.0.0.1", stack.service_port))
    sock.sendall(f"GET {url} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n".encode())
    async with aiohttp.ClientSession() as http, http.post(
            stack.service_url + url, data='{"protocol":"json","version":1}' + RS) as sent:
        assert sent.status == 200
    return body["connectionId"], url, sock


@pytest.mark.parametrize("pings", [False, True], ids=["silent", "pinging"])
async def test_a_client_that_never_reads_is_dropped_and_released(
    make_local_stack: StackFactory, http: aiohttp.ClientSession, pings: bool
) -> None:
    """An SSE client that stops reading is dropped, its socket closed, and the app gets its
    ``disconnected`` event: silent, by the client timeout; still pinging, once a write has been
    stuck for the client timeout."""
    stack = await make_local_stack(client_timeout=1.0, keep_alive_interval=0.2)
    service = stack.service_app[SERVICE_KEY]
    events: list[tuple[str, str]] = []
    post = service.dispatcher.events_client.post

    async def recording(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        events.append((headers["X-ASRS-Event"], headers["X-ASRS-Connection-Id"]))
        return await post(url, body, headers)

    service.dispatcher.events_client.post = recording  # type: ignore[method-assign]
    connection_id, url, sock = await _sse_that_never_reads(stack)
    path = "/api/hubs/chat/:send"
    token = issue_token(audience=f"http://127.0.0.1{path}", key=KEY, now=time.time())
    big = {"target": "newMessage", "arguments": ["x" * 200_000]}

    async def dropped() -> None:
        while any(s.connection_id == connection_id for s in service.registry.sessions()):
            async with http.post(stack.service_url + path, json=big,
                                 headers={"Authorization": f"Bearer {token}"}) as response:
                assert response.status == 202
            if pings:  # alive as far as its sends go: only the stuck writes can tell
                async with http.post(stack.service_url + url, data='{"type":6}' + RS) as sent:
                    assert sent.status in (200, 404)
            await asyncio.sleep(0.05)  # paces the flood

    await asyncio.wait_for(dropped(), TIMEOUT)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()

    async def until_closed() -> None:
        while await loop.sock_recv(sock, 1 << 16):
            pass  # what was already sent; the server's end of the socket is gone after it

    await asyncio.wait_for(until_closed(), TIMEOUT)
    sock.close()

    async def forgotten() -> None:  # the hub forgets it once its disconnected event is answered
        while any(s.connection_id == connection_id for s in service.state.connections("chat")):
            await asyncio.sleep(0.01)

    await asyncio.wait_for(forgotten(), TIMEOUT)
    assert ("disconnected", connection_id) in events, "the app heard that the client left"


async def test_open_files_cannot_be_exhausted(tmp_path) -> None:
    """With few file descriptors, a flood of unfinished connections is refused with 503 before
    accept() can fail; the refusal is logged once, and the stack keeps serving."""

    def few_files() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (200, 200))

    async with cli_process("-m", "emulator", "--app-dir", "tests/apps/basic", "--bind",
                           "127.0.0.1", "--service-port", "0", "--host-port", "0", "--no-reload",
                           "--data-dir", str(tmp_path), preexec=few_files) as process:
        found, lines = await read_until(process, r"emulator ready: service=\S+:(\d+) host=")
        port = int(found.group(1))
        assert any("open files: up to 200" in line for line in lines)
        flood = [await asyncio.open_connection("127.0.0.1", port) for _ in range(300)]
        answers = [await asyncio.wait_for(reader.read(), TIMEOUT) for reader, _ in flood[-5:]]
        assert all(answer.startswith(b"HTTP/1.1 503") for answer in answers)
        for _reader, writer in flood:
            writer.close()
        async with aiohttp.ClientSession() as http:

            async def serving() -> int:
                while True:
                    try:
                        async with http.get(f"http://127.0.0.1:{port}/api/health") as response:
                            return response.status
                    except aiohttp.ClientError:
                        await asyncio.sleep(0.05)  # the closed flood is still being counted

            assert await asyncio.wait_for(serving(), TIMEOUT) == 200
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), STOP_TIMEOUT) == 0
        assert process.stdout is not None
        text = "".join(lines) + (await process.stdout.read()).decode(errors="replace")
    assert "Too many open files" not in text
    assert text.count("refused a connection") == 1, "a flood is logged once"
