"""The stack's own HTTP client (emulator/http_client.py) against real socket servers on loopback
that answer byte for byte as each test scripts: framing, keep-alive, limits, deadlines, refusals,
the connection limit and TLS."""

from __future__ import annotations

import asyncio
import socket
import ssl
import struct
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from yarl import URL

from emulator.http_client import MAX_HEAD, BadAnswer, ClosedBeforeAnswer, HttpClient
from tests.support.timeouts import TIMEOUT

LIMIT = 1024

# Given the request's head and body and its number on its connection (1, 2...), the bytes to
# send back, or None to close the connection without an answer.
Script = Callable[[bytes, bytes, int], bytes | None]


def ok(body: bytes = b"ok", extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), extra, body)


class Recorder:
    """Reads whole requests (Content-Length bodies) and answers as the script says; after an
    answer with ``Connection: close`` it closes the connection."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.connections = 0
        self.open = 0
        self.most_open = 0
        self.requests: list[tuple[int, bytes, bytes]] = []  # (connection, head, body)
        self.closed = asyncio.Event()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open += 1
        self.most_open = max(self.most_open, self.open)
        connection, n = self.connections, 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                body = await reader.readexactly(length)
                n += 1
                self.requests.append((connection, head, body))
                answer = self.script(head, body, n)
                if answer is None:
                    return
                writer.write(answer)
                await writer.drain()
                if b"connection: close" in answer.split(b"\r\n\r\n", 1)[0].lower():
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            self.open -= 1
            self.closed.set()
            writer.close()


Serve = Callable[..., Awaitable[tuple[Recorder, URL]]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    servers: list[asyncio.Server] = []

    async def start(script: Script, *, tls: ssl.SSLContext | None = None
                    ) -> tuple[Recorder, URL]:
        recorder = Recorder(script)
        server = await asyncio.start_server(recorder.serve, "127.0.0.1", 0, ssl=tls)
        servers.append(server)
        port = server.sockets[0].getsockname()[1]
        return recorder, URL(f"{'https' if tls else 'http'}://127.0.0.1:{port}/api/x")

    yield start
    for server in servers:
        server.close()


@pytest.fixture
async def client() -> AsyncIterator[HttpClient]:
    client = HttpClient()
    yield client
    await client.close()


async def post(client: HttpClient, url: URL, body: bytes = b"{}", *, limit: int = LIMIT,
               timeout: float = TIMEOUT, headers: dict[str, str] | None = None
               ) -> tuple[int, bytes]:
    answer = await client.request("POST", url, body, headers or {}, limit=limit,
                                  timeout=timeout)
    return answer.status, answer.body


async def test_the_request_goes_out_as_http_1_1_with_its_host_length_and_path(serve, client):
    recorder, url = await serve(lambda head, body, n: ok())
    target = url.with_path("/api/O%27Brien", encoded=True).with_query("a=1")
    await post(client, target, b'{"a":1}', headers={"X-ASRS-Event": "broadcast"})
    _, head, body = recorder.requests[0]
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /api/O%27Brien?a=1 HTTP/1.1"
    assert f"Host: 127.0.0.1:{url.port}" in lines
    assert "Content-Length: 7" in lines and "X-ASRS-Event: broadcast" in lines
    assert body == b'{"a":1}'


async def test_calls_reuse_one_kept_alive_connection(serve, client):
    recorder, url = await serve(lambda head, body, n: ok(b"answer %d" % n))
    assert await post(client, url) == (200, b"answer 1")
    assert await post(client, url) == (200, b"answer 2")
    assert recorder.connections == 1


async def test_a_chunked_answer_is_read_whole(serve, client):
    chunked = (b"HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
    recorder, url = await serve(lambda head, body, n: chunked)
    assert await post(client, url) == (202, b"hello world")
    assert await post(client, url) == (202, b"hello world")
    assert recorder.connections == 1


async def test_an_answer_delimited_by_the_close_is_read_to_the_end(serve, client):
    recorder, url = await serve(
        lambda head, body, n: b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it")
    assert await post(client, url) == (200, b"all of it")
    assert await post(client, url) == (200, b"all of it")
    assert recorder.connections == 2


async def test_a_connection_the_server_closes_after_answering_is_not_reused(serve, client):
    recorder, url = await serve(lambda head, body, n: ok(extra=b"Connection: close\r\n"))
    assert await post(client, url) == (200, b"ok")
    assert await post(client, url) == (200, b"ok")
    assert recorder.connections == 2


async def test_an_informational_answer_is_skipped(serve, client):
    _, url = await serve(lambda head, body, n: b"HTTP/1.1 100 Continue\r\n\r\n" + ok())
    assert await post(client, url) == (200, b"ok")


async def test_an_answer_past_the_limit_is_cut_and_its_connection_dropped(serve, client):
    recorder, url = await serve(lambda head, body, n: ok(b"x" * (LIMIT * 4)))
    status, body = await post(client, url)
    assert status == 200 and body == b"x" * (LIMIT + 1)
    await post(client, url)
    assert recorder.connections == 2


async def test_a_server_that_does_not_answer_in_time_times_out_and_loses_the_connection(
        serve, client):
    recorder, url = await serve(lambda head, body, n: b"" if body == b"slow" else ok())
    with pytest.raises(TimeoutError):
        await post(client, url, b"slow", timeout=0.2)
    await asyncio.wait_for(recorder.closed.wait(), TIMEOUT)  # the client closed it
    assert await post(client, url) == (200, b"ok")
    assert recorder.connections == 2


async def test_a_header_with_a_newline_is_refused_before_anything_is_sent(serve, client):
    recorder, url = await serve(lambda head, body, n: ok())
    with pytest.raises(ValueError, match="header"):
        await post(client, url, headers={"X-ASRS-User-Id": "a\r\nX-Injected: 1"})
    assert recorder.requests == []


async def test_a_new_connection_closed_without_an_answer_is_not_sent_again(serve, client):
    recorder, url = await serve(lambda head, body, n: None)
    with pytest.raises(ClosedBeforeAnswer) as caught:
        await post(client, url)
    assert caught.value.reused is False
    assert len(recorder.requests) == 1


async def test_a_kept_alive_connection_closed_under_a_call_sends_it_again(serve, client):
    recorder, url = await serve(lambda head, body, n: None if n == 2 else ok(b"%d" % n))
    assert await post(client, url, b"first") == (200, b"1")
    assert await post(client, url, b"second") == (200, b"1")  # the first on connection 2
    assert [(c, body) for c, _, body in recorder.requests] == [
        (1, b"first"), (1, b"second"), (2, b"second")]


async def test_an_answer_cut_short_is_a_reset_not_a_resend(serve, client):
    recorder, url = await serve(lambda head, body, n: b"HTTP/1.1 200 OK\r\nContent-Length: 10"
                                b"\r\nConnection: close\r\n\r\nshort")
    with pytest.raises(ConnectionResetError):
        await post(client, url)
    assert len(recorder.requests) == 1


async def test_an_answer_that_is_not_http_is_a_bad_answer(serve, client):
    _, url = await serve(lambda head, body, n: b"SSH-2.0-OpenSSH_9.6\r\n")
    with pytest.raises(BadAnswer):
        await post(client, url)


async def test_calls_past_the_connection_limit_wait_for_a_free_one(serve):
    recorder, url = await serve(lambda head, body, n: ok())
    client = HttpClient(max_connections=2)
    try:
        results = await asyncio.gather(*(post(client, url) for _ in range(6)))
    finally:
        await client.close()
    assert results == [(200, b"ok")] * 6
    assert recorder.most_open == 2 and len(recorder.requests) == 6


async def test_an_idle_connection_to_another_origin_makes_room(serve):
    first, first_url = await serve(lambda head, body, n: ok(b"first"))
    _, second_url = await serve(lambda head, body, n: ok(b"second"))
    client = HttpClient(max_connections=1)
    try:
        assert await post(client, first_url) == (200, b"first")
        assert await asyncio.wait_for(post(client, second_url), TIMEOUT) == (200, b"second")
        await asyncio.wait_for(first.closed.wait(), TIMEOUT)  # the idle one was closed
    finally:
        await client.close()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def _server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


async def test_https_goes_over_tls_to_a_trusted_server(serve, certificate):
    recorder, url = await serve(lambda head, body, n: ok(b"secret"),
                                tls=_server_tls(certificate))
    trusting = ssl.create_default_context(cafile=str(certificate[0]))
    client = HttpClient(tls=trusting)
    try:
        assert await post(client, url) == (200, b"secret")
        assert await post(client, url) == (200, b"secret")
    finally:
        await client.close()
    assert recorder.connections == 1


async def test_https_refuses_a_server_whose_certificate_is_not_trusted(serve, client,
                                                                       certificate):
    recorder, url = await serve(lambda head, body, n: ok(), tls=_server_tls(certificate))
    with pytest.raises(ssl.SSLCertVerificationError):
        await post(client, url)
    assert recorder.requests == []


async def test_bytes_after_the_answer_drop_the_connection_instead_of_answering_the_next_call(
        serve, client):
    recorder, url = await serve(lambda head, body, n: ok(b"first") + ok(b"unasked")
                                if body == b"1" else ok(b"second"))
    assert await post(client, url, b"1") == (200, b"first")
    assert await post(client, url, b"2") == (200, b"second")
    assert recorder.connections == 2


async def test_a_switch_of_protocols_is_a_bad_answer(serve, client):
    _, url = await serve(lambda head, body, n: b"HTTP/1.1 101 Switching Protocols\r\n"
                         b"Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
    with pytest.raises(BadAnswer):
        await post(client, url)


async def test_headers_past_the_limit_are_a_bad_answer(serve, client):
    endless = b"HTTP/1.1 200 OK\r\n" + b"X-Pad: " + b"a" * (MAX_HEAD + 10) + b"\r\n\r\n"
    _, url = await serve(lambda head, body, n: endless)
    with pytest.raises(BadAnswer, match="headers"):
        await post(client, url)


async def test_a_body_ended_by_a_reset_is_not_taken_for_the_whole(client):
    async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{\"partial\": tr")
        await writer.drain()
        # Linger 0: the close is a reset (RST), not the end of the body (FIN).
        writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                                   struct.pack("ii", 1, 0))
        writer.transport.abort()

    server = await asyncio.start_server(reset, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(ConnectionResetError):
            await client.request("POST", URL(f"http://127.0.0.1:{port}/"), b"{}", {},
                                 limit=LIMIT, timeout=TIMEOUT)
    finally:
        server.close()


async def test_a_body_with_another_transfer_coding_ends_with_the_connection(serve, client):
    _, url = await serve(lambda head, body, n: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip"
                         b"\r\nConnection: close\r\n\r\nall of it")
    assert await post(client, url) == (200, b"all of it")


async def test_waiting_calls_are_served_in_turn(serve):
    """Two callers keep the only connection busy, call after call; a third that comes to wait
    is served after the call in flight and the one waiting before it, not after they stop."""
    _, url = await serve(lambda head, body, n: ok(body))
    client = HttpClient(max_connections=1)
    answered: list[bytes] = []
    stop = asyncio.Event()

    async def busy(name: bytes) -> None:
        while not stop.is_set():
            answered.append((await post(client, url, name))[1])

    busy_ones = [asyncio.ensure_future(busy(name)) for name in (b"a", b"b")]
    try:
        while not answered:  # both are at it: one in flight, one waiting
            await asyncio.sleep(0)
        before = len(answered)
        assert await post(client, url, b"late") == (200, b"late")
        assert len(answered) - before <= 2
    finally:
        stop.set()
        await asyncio.gather(*busy_ones)
        await client.close()


async def test_closing_the_client_fails_the_calls_waiting_for_a_connection():
    release = asyncio.Event()
    requests: list[bytes] = []

    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            requests.append(head.split(b"\r\n", 1)[0])
            await release.wait()
            writer.write(ok())
            await writer.drain()

    server = await asyncio.start_server(slow, "127.0.0.1", 0)
    url = URL(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/first")
    client = HttpClient(max_connections=1)
    try:
        first = asyncio.ensure_future(post(client, url, b""))
        while not requests:
            await asyncio.sleep(0.01)
        waiting = asyncio.ensure_future(post(client, url.with_path("/second"), b""))
        await asyncio.sleep(0)
        await client.close()
        with pytest.raises(ConnectionError, match="closed"):
            await waiting
        release.set()
        assert await first == (200, b"ok")
        assert requests == [b"POST /first HTTP/1.1"]
    finally:
        server.close()


async def test_headers_under_the_limit_are_read_over_several_reads(client):
    """40 KB of headers in two writes 50 ms apart (so in two reads): still an answer, since
    each byte of the head counts once."""
    pads = b"".join(b"X-Pad-%d: %s\r\n" % (n, b"a" * 1000) for n in range(40))

    async def split(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\n" + pads)
        await writer.drain()
        await asyncio.sleep(0.05)  # shapes the stream into two reads; nothing waits on it
        writer.write(b"Content-Length: 2\r\n\r\nok")
        await writer.drain()

    server = await asyncio.start_server(split, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        answer = await client.request("POST", URL(f"http://127.0.0.1:{port}/"), b"{}", {},
                                      limit=LIMIT, timeout=TIMEOUT)
        assert (answer.status, answer.body) == (200, b"ok")
    finally:
        server.close()
