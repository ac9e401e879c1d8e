"""What one client can make the host hold: bodies over the limit, trickling bodies, and the
memory big bodies leave behind.

Before this, the host buffered a body up to 100 MiB before refusing it, waited for a trickling
upload as long as the client liked, and kept the memory of big bodies after they were answered:
four concurrent ~95 MB bodies to ``/api/negotiate`` left 432 MiB resident for good.
"""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.hardening import host_support
from tests.hardening.host_support import (
    HostFactory,
    raw_exchange,
)
from tests.support.processes import cli_process, read_until
from tests.support.timeouts import TIMEOUT

make_test_host = host_support.make_test_host  # fixtures
log_capture = host_support.log_capture
LIMIT = 4096
SMALL = {"FUNCTIONS_REQUEST_BODY_SIZE_LIMIT": str(LIMIT)}
"""The Functions host's own setting for its request size limit."""


def _head(path: str, *lines: str) -> bytes:
    return ("\r\n".join([f"POST {path} HTTP/1.1", "Host: 127.0.0.1", *lines]) + "\r\n\r\n").encode()


def _ran(capture: Any, function: str) -> bool:
    return any(f"Executing 'Functions.{function}'" in r.getMessage() for r in capture.records)


@pytest.mark.parametrize("path", ["/api/size", "/runtime/webhooks/durabletask/entities/Box/k",
                                  "/admin/functions/size", "/runtime/webhooks/signalr"])
async def test_host_refuses_a_declared_oversized_body_before_reading_it(
    make_test_host: HostFactory, log_capture: Any, path: str,
) -> None:
    """A Content-Length over the limit gets 413 at once, without the body being sent, and the
    connection is closed: nothing waits for (or buffers) the body."""
    host = await make_test_host("hostile", SMALL)
    answer = await raw_exchange(host.port, _head(path, f"Content-Length: {LIMIT + 1}"))
    assert answer.startswith(b"HTTP/1.1 413"), answer
    assert b"Connection: close" in answer
    assert not _ran(log_capture, "size")


async def test_host_stops_a_chunked_body_at_the_limit(
    make_test_host: HostFactory, log_capture: Any,
) -> None:
    """A chunked body is counted as it comes: past the limit the answer is 413, the function
    does not run and the connection is closed while the client would still be sending."""
    host = await make_test_host("hostile", SMALL)
    chunk = b"x" * 1024
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(8))
    answer = await raw_exchange(host.port, _head("/api/size", "Transfer-Encoding: chunked"),
                                then=body)
    assert answer.startswith(b"HTTP/1.1 413"), answer
    assert not _ran(log_capture, "size")


async def test_host_ends_a_trickling_upload(
    make_test_host: HostFactory, log_capture: Any,
) -> None:
    """A body that stops arriving gets 408 after the body timeout, and the socket is closed."""
    host = await make_test_host("hostile", body_timeout=0.5)
    reader, writer = await asyncio.open_connection("127.0.0.1", host.port)
    try:
        writer.write(_head("/api/size", "Content-Length: 1000") + b"only a little")
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(65536), TIMEOUT)
        assert answer.startswith(b"HTTP/1.1 408"), answer
        assert await asyncio.wait_for(reader.read(), TIMEOUT) == b""  # closed by the host
    finally:
        writer.close()
    assert not _ran(log_capture, "size")


async def test_host_takes_bodies_up_to_the_limit(
    make_test_host: HostFactory, http: aiohttp.ClientSession,
) -> None:
    """At the limit (chunked or not) the function gets the whole body."""
    host = await make_test_host("hostile", SMALL)
    async with http.post(f"{host.url}/api/size", data=b"y" * LIMIT) as response:
        assert (response.status, await response.text()) == (200, str(LIMIT))

    async def chunks() -> Any:
        for _ in range(4):
            yield b"z" * (LIMIT // 4)

    async with http.post(f"{host.url}/api/size", data=chunks()) as response:
        assert (response.status, await response.text()) == (200, str(LIMIT))


# -- memory ----------------------------------------------------------------------------------

MIB = 1024 * 1024


def _rss(pid: int) -> int:
    """Resident memory of a process, in bytes (Linux)."""
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    assert found, status
    return int(found.group(1)) * 1024


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc (Linux)")
async def test_host_hands_back_the_memory_of_big_bodies(
    tmp_path: Path, http: aiohttp.ClientSession,
) -> None:
    """Four concurrent near-limit bodies, twice: once they are answered, the host holds less
    than one body more than before (before the fix it kept about 120 MiB more)."""
    big, concurrent = 24 * MIB, 4
    env = {**os.environ, "FUNCTIONS_REQUEST_BODY_SIZE_LIMIT": str(big + 1024)}
    async with cli_process("-m", "emulator.functions", "--app-dir", "tests/apps/hostile",
                           "--port", "0", "--data-dir", str(tmp_path), env=env) as process:
        found, _ = await read_until(process, r"Host started on http://localhost:(\d+)")
        assert process.stdout is not None
        drain = asyncio.create_task(process.stdout.read())  # the log must never block the host
        url = f"http://127.0.0.1:{found.group(1)}/api/size"
        try:
            async def send(size: int) -> None:
                async with http.post(url, data=b"b" * size) as response:
                    assert (response.status, await response.text()) == (200, str(size))

            await send(big)  # every allocator pool and code path warmed once
            await send(1)
            before = _rss(process.pid)
            for _ in range(2):
                await asyncio.gather(*(send(big) for _ in range(concurrent)))
            await send(1)  # the loop has finished with every big request
            after = _rss(process.pid)
        finally:
            drain.cancel()
    grown = after - before
    print(f"resident memory grew by {grown / 2**20:.1f} MiB")
    assert grown < big, f"the host kept {grown / 2**20:.0f} MiB after the bodies were answered"
