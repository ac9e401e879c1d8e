"""The host's log cannot be forged, flooded, or made to show a key.

Before this: a path, a name or an exception message with CR/LF wrote a line of the client's
choosing (or terminal escapes); every failure of a function wrote its whole traceback at ERROR
(2,000 refused SignalR calls: 40,000 lines); and a malformed request line carrying ``?code=``
was logged with the key, as an ERROR with a traceback, by aiohttp's server logger.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp

from emulator.contracts import sign_connection_id
from tests.hardening import host_support
from tests.hardening.host_support import HostFactory, raw_exchange
from tests.support.processes import cli_process, read_until
from tests.support.timeouts import TIMEOUT

make_test_host = host_support.make_test_host  # fixtures
log_capture = host_support.log_capture

FORGED_LINE = "12:00:00 CRITICAL emulator.functions: FORGED"
PAYLOAD = f"x\r\n{FORGED_LINE}\n\x1b[2J\x1b]0;pwned\x07\u2028\x85{FORGED_LINE}"
ACCESS_KEY = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH"
SETTINGS = {"AzureSignalRConnectionString":
            f"Endpoint=http://127.0.0.1;Port=1;AccessKey={ACCESS_KEY};Version=1.0;"}


def _assert_not_forged(text: str) -> None:
    assert "\r" not in text and "\x1b" not in text and "\x07" not in text
    lines = text.splitlines()  # splits on U+2028 and NEL too, as some viewers do
    forged = [line for line in lines if line.lstrip().startswith(("12:00:00 CRITICAL", "FORGED"))]
    assert not forged, forged


def _webhook_headers(event: str, connection_id: str = "c1") -> dict[str, str]:
    return {"Content-Type": "application/json", "X-ASRS-Hub": "chat",
            "X-ASRS-Category": "messages", "X-ASRS-Event": event,
            "X-ASRS-Connection-Id": connection_id,
            "X-ASRS-Signature": sign_connection_id(connection_id, [ACCESS_KEY])}


async def test_host_logs_client_values_escaped(
    make_test_host: HostFactory, http: aiohttp.ClientSession, log_capture: Any,
) -> None:
    """CR, LF, ESC, BEL, U+2028 and NEL in paths, query values echoed by an exception, names,
    origins and header values all show up escaped: no line of the client's making."""
    host = await make_test_host("hostile", SETTINGS)
    evil = quote(PAYLOAD, safe="")
    durable = f"{host.durable_url}"
    requests: list[tuple[str, str, dict[str, str]]] = [
        ("GET", f"{host.url}/api/echo-error?x={evil}", {}),
        ("POST", f"{durable}/entities/{evil}/k?op=x", {}),
        ("POST", f"{durable}/entities/Box/{evil}?op=x", {}),
        ("POST", f"{durable}/orchestrators/{evil}", {}),
        ("POST", f"{durable}/orchestrators/{evil}?taskHub=OtherHub", {}),
        ("GET", f"{durable}/instances/{evil}", {}),
        ("POST", f"{host.url}/admin/functions/{evil}", {"Content-Type": "application/json"}),
    ]
    for method, url, headers in requests:
        async with http.request(method, url, headers=headers, data=b"{}") as response:
            await response.read()
    # Header values with ESC and BEL (clients libraries refuse to send them; a socket does not).
    for name, value in [("Origin", "http://e\x1b[31m.example"),
                        ("X-ASRS-Hub", "chat\x1b[2J\x07x")]:
        head = "\r\n".join([
            "POST /runtime/webhooks/signalr HTTP/1.1", "Host: 127.0.0.1",
            *(f"{k}: {v}" for k, v in {**_webhook_headers("refuse"), name: value}.items()),
            "Content-Length: 2", "Connection: close"])
        await raw_exchange(host.port, head.encode() + b"\r\n\r\n{}")
    from emulator.functions.durable import DURABLE

    await host.app[DURABLE].wait_idle(TIMEOUT)
    text = log_capture.text
    assert "bad input: x\\x0d\\x0a12:00:00 CRITICAL" in text  # the echoed error is there...
    _assert_not_forged(text)  # ...but only as an escaped value


async def test_host_logs_a_repeated_failure_once_with_its_traceback(
    make_test_host: HostFactory, http: aiohttp.ClientSession, log_capture: Any,
) -> None:
    """A SignalR function that refuses every call, called 200 times: one traceback at ERROR,
    then one line per call that still says Failed; Executing/Executed stay."""
    host = await make_test_host("hostile", SETTINGS)
    body = json.dumps({"type": 1, "invocationId": "1", "target": "refuse",
                       "arguments": []}).encode()
    calls = 200
    for n in range(calls):
        async with http.post(f"{host.url}/runtime/webhooks/signalr", data=body,
                             headers=_webhook_headers("refuse", f"c{n}")) as response:
            assert response.status == 200
            assert b"PermissionError" in await response.read()
    records = [r for r in log_capture.records if "Functions.refuse" in r.getMessage()]
    executing = [r for r in records if r.getMessage().startswith("Executing")]
    failed = [r for r in records if "(Failed," in r.getMessage()]
    assert len(executing) == len(failed) == calls
    errors = [r for r in records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "Traceback" in errors[0].getMessage()
    assert all("PermissionError: you may not do that" in r.getMessage() for r in failed)
    lines = sum(len(log_capture.format(r).splitlines()) for r in records)
    assert lines < 2 * calls + 20, lines


async def test_host_logs_other_failures_of_the_same_function_again(
    make_test_host: HostFactory, http: aiohttp.ClientSession, log_capture: Any,
) -> None:
    """Another exception type of the same function is a new failure: its traceback shows."""
    host = await make_test_host("hostile", SETTINGS)
    for _ in range(3):
        async with http.get(f"{host.url}/api/echo-error?x=1") as response:
            assert response.status == 500
    async with http.post(f"{host.url}/runtime/webhooks/signalr", data=b"{}",
                         headers=_webhook_headers("refuse")) as response:
        await response.read()
    tracebacks = [r for r in log_capture.records if "Traceback" in r.getMessage()]
    assert [("echo_error" in r.getMessage()) for r in tracebacks] == [True], tracebacks


async def test_host_logs_malformed_requests_without_traceback_or_key(
    make_test_host: HostFactory, log_capture: Any,
) -> None:
    """aiohttp's own refusals of malformed requests: WARNING once, then INFO, one line each,
    and without the request line (where ``code=`` would be)."""
    from emulator.serve import quiet_malformed_requests

    server_log = logging.getLogger("aiohttp.server")
    before = list(server_log.filters)
    quiet_malformed_requests()
    try:
        host = await make_test_host("hostile")
        for _ in range(3):
            answer = await raw_exchange(
                host.port, b"GET /api/size?code=SECRETKEY\x01 HTTP/1.1\r\nHost: x\r\n\r\n")
            assert answer.startswith(b"HTTP/1.") and b" 400 " in answer[:20]
    finally:
        server_log.filters[:] = before  # the CLI installs it for good; a test must not
    records = [r for r in log_capture.records if r.name == "aiohttp.server"]
    assert [r.levelname for r in records] == ["WARNING", "INFO", "INFO"]
    assert all(r.exc_info is None for r in records)
    assert "SECRETKEY" not in log_capture.text


async def test_host_cli_never_logs_keys(tmp_path: Path) -> None:
    """``python -m emulator.functions --enable-auth``: requests carrying the master key, the
    durable key or a wrong key in ``?code=`` (and a malformed one), and the SDK's own calls:
    none of the keys, nor the SDK's RPC secret, reaches the log."""
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(host_support.KEYS))
    async with cli_process("-m", "emulator.functions", "--app-dir", "tests/apps/hostile",
                           "--port", "0", "--host", "127.0.0.1", "--enable-auth",
                           "--keys-file", str(keys), "--data-dir", str(tmp_path / "data"),
                           env={**os.environ, **SETTINGS}) as process:
        found, lines = await read_until(process, r"Host started on http://127.0.0.1:(\d+)")
        port = int(found.group(1))
        base = f"http://127.0.0.1:{port}"
        durable = f"{base}/runtime/webhooks/durabletask"
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as http:
            for url in [f"{base}/api/secret?code=master-key", f"{base}/api/secret?code=wrongkey1",
                        f"{base}/api/nothing?code=master-key",
                        f"{base}/api/echo-error?x=1&code=master-key",
                        f"{durable}/entities/Box/k?code=durable-key",
                        f"{durable}/entities/Nope/k?op=x&code=durable-key",
                        f"{durable}/instances/missing?code=durable-key",
                        f"{durable}/instances/x?code=wrongkey2",
                        f"{base}/admin/functions/size?code=master-key",
                        f"{base}/runtime/webhooks/signalr?code=signalr-key"]:
                async with http.post(url, data=b"1") as response:
                    await response.read()
            async with http.post(f"{base}/api/box/k?code=master-key", data=b"v") as response:
                assert response.status == 200  # the SDK's RPC calls, with their secret
        await raw_exchange(port, b"GET /api/secret?code=master-key\x01 HTTP/1.1\r\n\r\n")
        await raw_exchange(port, b"GET /api/secret?code=master-key HTTP/1.1\r\nBad\r\n\r\n")
        async with aiohttp.ClientSession() as http, http.get(f"{base}/api/nothing") as last:
            await last.read()  # a last request: the log has the rest
        process.send_signal(2)
        rest = await asyncio.wait_for(process.stdout.read(), TIMEOUT)  # type: ignore[union-attr]
    text = "".join(lines) + rest.decode(errors="replace")
    assert "host stopped" in text
    for secret in ("master-key", "durable-key", "signalr-key", "wrongkey1", "wrongkey2"):
        assert secret not in text, secret
    assert not re.search(r"code=", text)
    assert not re.search(r"/rpc/(?!…)[^/\s]+", text)
