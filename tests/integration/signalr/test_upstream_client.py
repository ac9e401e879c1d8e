"""The upstream client against a real socket server that closes a kept-alive connection under a
request, as a host restarting in place does: the request goes again, on a new connection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from emulator.errors import UpstreamError
from emulator.signalr.upstream_client import UpstreamClient
from tests.support.timeouts import TIMEOUT

HEADERS = {"Content-Type": "application/json", "X-ASRS-Category": "messages",
           "X-ASRS-Event": "broadcast", "X-ASRS-Connection-Id": "c1"}

# (connection number, request number on it) -> answer, or None to close without one
Plan = Callable[[int, int], bytes | None]


class _Server:
    """Reads whole HTTP/1.1 requests and answers as ``plan`` says; records what arrived."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.connections = 0
        self.requests: list[tuple[int, bytes]] = []

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        connection, n = self.connections, 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length:"))
                body = await reader.readexactly(length)
                n += 1
                self.requests.append((connection, body))
                answer = self.plan(connection, n)
                if answer is None:
                    return  # closed with the request read and no answer
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s"
                             % (len(answer), answer))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Plan], asyncio.Future[tuple[_Server, str]]]]:
    servers: list[asyncio.Server] = []

    async def start(plan: Plan) -> tuple[_Server, str]:
        recorder = _Server(plan)
        server = await asyncio.start_server(recorder.serve, "127.0.0.1", 0)
        servers.append(server)
        port = server.sockets[0].getsockname()[1]
        return recorder, f"http://127.0.0.1:{port}/runtime/webhooks/signalr"

    yield start  # type: ignore[misc]
    for server in servers:
        server.close()


async def test_a_request_on_a_connection_closed_under_it_goes_again_on_a_new_one(serve) -> None:
    recorder, url = await serve(lambda connection, n: None if (connection, n) == (1, 2)
                                else b"from %d" % connection)
    client = UpstreamClient(timeout=TIMEOUT)
    await client.start()
    try:
        assert await client.post(url, b"first", HEADERS) == (200, b"from 1")
        assert await client.post(url, b"second", HEADERS) == (200, b"from 2")
    finally:
        await client.close()
    # The second request reached the closing connection, then a new one: sent twice, answered
    # once (the server that closed had not answered it).
    assert recorder.requests == [(1, b"first"), (1, b"second"), (2, b"second")]


async def test_a_new_connection_closed_without_an_answer_is_not_sent_again(serve) -> None:
    recorder, url = await serve(lambda connection, n: None)
    client = UpstreamClient(timeout=TIMEOUT)
    await client.start()
    try:
        with pytest.raises(UpstreamError, match="unreachable"):
            await client.post(url, b"only", HEADERS)
    finally:
        await client.close()
    assert recorder.requests == [(1, b"only")]


async def test_resends_stop_after_three(serve) -> None:
    # Every kept-alive connection is closed under its second request: the client has reused
    # connections to try, and gives up after three resends.
    recorder, url = await serve(lambda connection, n: b"ok" if n == 1 else None)
    client = UpstreamClient(timeout=TIMEOUT)
    await client.start()
    try:
        # Five at once: five connections, each answered once, then idle in the pool.
        await asyncio.gather(*(client.post(url, b"warm", HEADERS) for _ in range(5)))
        with pytest.raises(UpstreamError, match="unreachable"):
            await client.post(url, b"late", HEADERS)
    finally:
        await client.close()
    late = [connection for connection, body in recorder.requests if body == b"late"]
    assert len(late) == 4 and len(set(late)) == 4
