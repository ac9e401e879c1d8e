"""``func-offline`` as a tool: installed with pip, started in someone's app folder, with Core
Tools' flags, restarting the host when the app changes and reloading the service's rules."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.support.processes import cli_process, read_until
from tests.support.stack import ROOT
from tests.support.timeouts import STOP_TIMEOUT, TIMEOUT

TOOL_APP = ROOT / "tests" / "apps" / "tool"
READY = r"emulator ready: service=(\S+) host=(\S+) page=(\S+)"


def _app_copy(tmp_path: Path) -> Path:
    app = tmp_path / "my-app"
    shutil.copytree(TOOL_APP, app)
    return app


async def _get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.text()


async def _stop(process: asyncio.subprocess.Process) -> int:
    process.send_signal(signal.SIGTERM)
    return await asyncio.wait_for(process.wait(), STOP_TIMEOUT)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pip install .`` into a fresh virtual environment; its ``func-offline`` command.

    Built from a copy of what the package consists of, so the checkout is not written to. The
    dependencies come from the project's own environment (a ``.pth`` file), not the network."""
    root = tmp_path_factory.mktemp("install")
    source = root / "source"
    source.mkdir()
    shutil.copy2(ROOT / "pyproject.toml", source)
    shutil.copy2(ROOT / "README.md", source)
    shutil.copytree(ROOT / "emulator", source / "emulator",
                    ignore=shutil.ignore_patterns("__pycache__"))
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", str(source)],
                   check=True, timeout=300, capture_output=True)
    site = subprocess.run([str(python), "-c", "import sysconfig; "
                           "print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    Path(site, "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    command = venv / "bin" / "func-offline"
    assert command.is_file(), "pip did not install the func-offline command"
    return command


@pytest.fixture
async def running_tool(installed: Path, tmp_path: Path) -> AsyncIterator[tuple[Path, str, list]]:
    """The installed command started in a copy of the tool app, as a user starts it."""
    app = _app_copy(tmp_path)
    process = await asyncio.create_subprocess_exec(
        str(installed), "--port", "0", "--service-port", "0", "--bind", "127.0.0.1",
        cwd=app, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        found, lines = await read_until(process, READY)
        yield app, found.group(2), [process, lines]
        assert await _stop(process) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_tool_runs_an_app_from_its_own_folder(running_tool) -> None:
    """Installed with pip, the command serves the app in the current folder, lists its real
    routes, and offers no chat page when the app has none."""
    _app, host, (_process, lines) = running_tool
    assert await _get(f"{host}/api/hello") == (200, "hello")
    text = "".join(lines)
    assert f"hello: [GET] {host}/api/hello" in text
    assert "Open the chat" not in text


async def test_tool_restarts_the_host_when_the_app_changes(running_tool) -> None:
    """Saving function_app.py restarts the host with the new code; the service stays up."""
    app, host, (process, _lines) = running_tool
    script = app / "function_app.py"
    script.write_text(script.read_text().replace('GREETING = "hello"', 'GREETING = "changed"'))
    await read_until(process, r"function_app\.py changed: restarting the host")
    await read_until(process, r"the host serves \S+ again")
    assert await _get(f"{host}/api/hello") == (200, "changed")


async def test_tool_restarts_the_host_with_the_settings_the_app_now_has(running_tool) -> None:
    """A new local.settings.json restarts the host with its Values; a broken one keeps the
    settings the host had, and says why."""
    app, host, (process, _lines) = running_tool
    settings = app / "local.settings.json"
    settings.write_text(json.dumps({"IsEncrypted": False,
                                    "Values": {"TOOL_GREETING": "from the settings"}}))
    await read_until(process, r"local\.settings\.json changed: restarting the host")
    await read_until(process, r"the host serves \S+ again")
    assert await _get(f"{host}/api/hello") == (200, "from the settings")
    settings.write_text("{ not json")
    await read_until(process, r"invalid JSON .*; the host keeps the settings it had")
    await read_until(process, r"the host serves \S+ again")
    assert await _get(f"{host}/api/hello") == (200, "from the settings")


async def test_tool_shows_app_logs_under_the_functions_name(running_tool) -> None:
    """What a function logs through ``logging`` appears under Function.<name>.User."""
    _app, host, (process, _lines) = running_tool
    assert (await _get(f"{host}/api/hello?name=ann"))[0] == 200
    found, _ = await read_until(process, r"(\S+): saying hello to ann")
    assert found.group(1) == "Function.hello.User"


async def test_tool_runs_only_the_functions_named(tmp_path: Path) -> None:
    """``--functions hello``: the other functions are not loaded (404)."""
    app = _app_copy(tmp_path)
    async with cli_process("-m", "emulator", "--app-dir", str(app), "--port", "0",
                           "--service-port", "0", "--bind", "127.0.0.1", "--no-reload",
                           "--functions", "hello") as process:
        found, _ = await read_until(process, READY)
        host = found.group(2)
        assert (await _get(f"{host}/api/hello"))[0] == 200
        assert (await _get(f"{host}/api/other"))[0] == 404
        assert await _stop(process) == 0


async def test_tool_cors_flags_replace_the_settings_cors(tmp_path: Path) -> None:
    """``--cors`` and ``--cors-credentials`` mean what they mean to ``func start``."""
    app = _app_copy(tmp_path)
    origin = "http://localhost:3000"
    async with cli_process("-m", "emulator", "--app-dir", str(app), "--port", "0",
                           "--service-port", "0", "--bind", "127.0.0.1", "--no-reload",
                           "--cors", origin, "--cors-credentials") as process:
        found, _ = await read_until(process, READY)
        async with aiohttp.ClientSession() as http, http.get(
                f"{found.group(2)}/api/hello", headers={"Origin": origin}) as response:
            assert response.headers["Access-Control-Allow-Origin"] == origin
            assert response.headers["Access-Control-Allow-Credentials"] == "true"
        assert await _stop(process) == 0


async def test_tool_enable_auth_requires_keys(tmp_path: Path) -> None:
    """``--enableAuth``: a function-level route needs its key, as on Azure."""
    app = _app_copy(tmp_path)
    script = app / "function_app.py"
    script.write_text(script.read_text().replace(
        '@app.route(route="other", methods=["GET"])',
        '@app.route(route="other", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)'))
    async with cli_process("-m", "emulator", "--app-dir", str(app), "--port", "0",
                           "--service-port", "0", "--bind", "127.0.0.1", "--no-reload",
                           "--enableAuth", "--data-dir", str(tmp_path / "data")) as process:
        found, _ = await read_until(process, READY)
        host = found.group(2)
        assert (await _get(f"{host}/api/other"))[0] == 401
        keys = json.loads((tmp_path / "data" / "host_keys.json").read_text())
        assert await _get(f"{host}/api/other?code={keys['functionKeys']['default']}") == (
            200, "other")
        assert await _stop(process) == 0


async def test_tool_upstream_init_writes_a_sample_the_service_reloads(tmp_path: Path) -> None:
    """``upstream init`` writes settings.json; a running stack reloads it when it changes."""
    app = _app_copy(tmp_path)
    settings = app / "settings.json"
    init = subprocess.run([sys.executable, "-m", "emulator", "upstream", "init", "-o",
                           str(settings)], cwd=ROOT, capture_output=True, text=True,
                          timeout=TIMEOUT)
    assert init.returncode == 0, init.stderr
    document = json.loads(settings.read_text())
    assert document["UpstreamSettings"]["Templates"][0]["UrlTemplate"].endswith(
        "/runtime/webhooks/signalr")
    again = subprocess.run([sys.executable, "-m", "emulator", "upstream", "init", "-o",
                            str(settings)], cwd=ROOT, capture_output=True, text=True,
                           timeout=TIMEOUT)
    assert again.returncode == 1 and "exists" in again.stderr
    async with cli_process("-m", "emulator", "--app-dir", str(app), "--port", "0",
                           "--service-port", "0", "--bind", "127.0.0.1",
                           "--no-reload") as process:
        await read_until(process, READY)
        document["UpstreamSettings"]["Templates"].append(
            {"UrlTemplate": "http://127.0.0.1:1/{event}", "EventPattern": "never"})
        settings.write_text(json.dumps(document))
        found, _ = await read_until(process, r"settings\.json changed: (\d+) upstream rule")
        assert found.group(1) == "2"
        assert await _stop(process) == 0


def test_tool_help_names_func_starts_flags() -> None:
    """The flags that mean the same as ``func start``'s have its names."""
    result = subprocess.run([sys.executable, "-m", "emulator", "--help"], cwd=ROOT,
                            capture_output=True, text=True, timeout=TIMEOUT, check=True)
    for flag in ("--port", "--cors", "--cors-credentials", "--enableAuth", "--functions",
                 "--verbose", "--no-reload"):
        assert re.search(rf"{flag}\b", result.stdout), flag
    assert "<app folder>/.emulator" in result.stdout


def test_tool_token_signs_a_rest_token_the_service_accepts() -> None:
    """``token URL`` prints what test.http needs: a REST token the service would accept."""
    from emulator.contracts import rest_audience_matches, verify_token
    from emulator.signalr.config import DEFAULT_ACCESS_KEY

    url = "http://localhost:8888/api/hubs/chat/:send"
    result = subprocess.run([sys.executable, "-m", "emulator", "token", url, "--app-dir",
                             str(TOOL_APP)], cwd=ROOT, capture_output=True, text=True,
                            timeout=TIMEOUT, check=True)
    claims = verify_token(result.stdout.strip(), keys=(DEFAULT_ACCESS_KEY,), now=time.time(),
                          audience_ok=lambda aud: rest_audience_matches(aud,
                                                                        "/api/hubs/chat/:send"))
    assert claims["aud"] == url


def test_editor_files_run_this_repositorys_commands() -> None:
    """.vscode's debug configurations start modules that exist; test.http names real routes."""
    import importlib.util

    text = (ROOT / ".vscode" / "launch.json").read_text()
    launch = json.loads(re.sub(r"^\s*//.*$", "", text, flags=re.M))
    for configuration in launch["configurations"]:
        assert importlib.util.find_spec(configuration["module"]) is not None
    calls = (ROOT / "test.http").read_text()
    for route in ("/api/negotiate", "/client/negotiate", "/api/hubs/chat/:send", "/api/health"):
        assert route in calls
