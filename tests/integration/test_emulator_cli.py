"""``python -m emulator`` as users run it: options, errors, key checks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import aiohttp

from emulator.signalr import DEFAULT_ACCESS_KEY
from tests.conftest import require_tool
from tests.support.node_client import NodeClient
from tests.support.stack import ROOT, start_stack
from tests.support.timeouts import TIMEOUT


async def test_chat_works_with_function_keys_checked(tmp_path: Path) -> None:
    """With --enable-auth the service's upstream carries the signalr_extension key, as on Azure."""
    require_tool("node", "Node.js")
    log_path = tmp_path / "stack.log"
    running = await start_stack(
        data_dir=tmp_path / "data", log_path=log_path, extra_args=("--enable-auth",)
    )
    try:
        async with NodeClient(running.api_url, name="frank") as frank:
            message_id = await frank.invoke("broadcast", "keys on")
            [message] = await frank.wait_message("newMessage", lambda a: a[0]["id"] == message_id)
            assert message["text"] == "keys on"
        # Without the key the webhook is closed.
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{running.host_url}/runtime/webhooks/signalr",
                data="{}",
                headers={"Content-Type": "application/json"},
            ) as response,
        ):
            assert response.status == 401
    finally:
        assert await running.stop() == 0


def test_emulator_refuses_a_folder_without_an_app(tmp_path: Path) -> None:
    """A wrong --app-dir is a one-line error and exit code 2, not a traceback."""
    result = subprocess.run(
        [sys.executable, "-m", "emulator", "--app-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and "no host.json" in result.stderr
    assert "Traceback" not in result.stderr


async def test_stack_logs_carry_no_secrets(tmp_path: Path) -> None:
    """Tokens, keys and signatures never reach the log at the default level."""
    require_tool("node", "Node.js")
    running = await start_stack(data_dir=tmp_path / "data", log_path=tmp_path / "stack.log")
    try:
        async with aiohttp.ClientSession() as http:
            headers = {"x-ms-client-principal-name": "grace"}
            async with http.post(f"{running.api_url}/negotiate", headers=headers) as response:
                token = (await response.json(content_type=None))["accessToken"]
        async with NodeClient(running.api_url, name="grace", transport="ServerSentEvents") as sse:
            await sse.invoke("broadcast", "over server-sent events")
        async with NodeClient(running.api_url, name="grace") as ws:
            await ws.invoke("broadcast", "over websockets")
    finally:
        assert await running.stop() == 0
    log = running.log_text()
    assert "grace" in log  # the log is there, and mentions the user
    assert token.split(".")[2] not in log
    assert "access_token=" not in log
    assert DEFAULT_ACCESS_KEY not in log
    assert "sha256=" not in log


async def test_stack_stops_cleanly_with_clients_connected(tmp_path: Path) -> None:
    """Ctrl-C with people online: every disconnected function runs, no error is logged."""
    require_tool("node", "Node.js")
    running = await start_stack(data_dir=tmp_path / "data", log_path=tmp_path / "stack.log")
    clients = [NodeClient(running.api_url, name=f"user{i}", reconnect=False) for i in range(3)]
    try:
        for client in clients:
            await client.start()
        await clients[0].invoke("broadcast", "about to stop")
    finally:
        assert await running.stop() == 0
        for client in clients:
            await client.stop()
    log = running.log_text()
    assert log.count("Executed 'Functions.on_disconnected' (Succeeded") == 3, log
    assert " ERROR " not in log, log


async def test_page_policy_names_the_real_service_port(tmp_path: Path) -> None:
    """A connection string from the environment still points the page at the service's port."""
    stale = (
        "Endpoint=http://localhost;Port=1;"
        "AccessKey=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH;Version=1.0;"
    )
    running = await start_stack(
        data_dir=tmp_path / "data",
        log_path=tmp_path / "stack.log",
        env={"AzureSignalRConnectionString": stale},
    )
    try:
        async with aiohttp.ClientSession() as http, http.get(running.page_url) as response:
            policy = response.headers["Content-Security-Policy"]
    finally:
        assert await running.stop() == 0
    assert f"connect-src 'self' {running.service_url} " in policy, policy
