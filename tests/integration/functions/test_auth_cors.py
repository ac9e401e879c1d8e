"""Function keys (off by default, on with enable_auth) and CORS, through real HTTP."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlsplit

import pytest

from tests.support.timeouts import TIMEOUT

SETTINGS = {"HUB_NAME": "chat"}
KEYS = {"masterKey": "master-key", "functionKeys": {"default": "host-key"},
        "systemKeys": {"signalr_extension": "sys-key"},
        "functions": {"secret": {"default": "own-key"}}}


async def test_host_auth_off_by_default(make_host) -> None:
    """Like Core Tools, keys are not checked unless auth is enabled."""
    host = await make_host("basic", SETTINGS)
    assert (await host.request("GET", "/api/secret"))[0] == 200
    assert (await host.request("GET", "/api/ops/only"))[0] == 200


@pytest.mark.parametrize(("path", "kwargs", "status"), [
    ("/api/secret", {}, 401),
    ("/api/secret?code=wrong", {}, 401),
    ("/api/secret?code=host-key", {}, 200),
    ("/api/secret?code=own-key", {}, 200),
    ("/api/secret?code=sys-key", {}, 401),
    ("/api/secret?code=wrong", {"headers": {"x-functions-key": "master-key"}}, 200),
    ("/api/ops/only?code=host-key", {}, 401),
    ("/api/ops/only?code=master-key", {}, 200),
    ("/api/echo", {"data": b"anonymous"}, 200),
])
async def test_host_auth_levels_with_keys(make_host, tmp_path, path, kwargs, status) -> None:
    """With auth on, FUNCTION needs a host/function/master key and ADMIN the master key."""
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(KEYS))
    host = await make_host("basic", SETTINGS, enable_auth=True, keys_file=keys)
    method = "POST" if "data" in kwargs else "GET"
    assert (await host.request(method, path, **kwargs))[0] == status


async def test_host_auth_creates_keys_file(make_host, tmp_path) -> None:
    """Enabling auth without a keys file creates one whose master key then works."""
    host = await make_host("basic", SETTINGS, enable_auth=True, data_dir=tmp_path / "d")
    stored = json.loads((tmp_path / "d" / "host_keys.json").read_text())
    assert (await host.request("GET", "/api/secret"))[0] == 401
    status, body, _ = await host.request("GET", "/api/secret",
                                         headers={"x-functions-key": stored["masterKey"]})
    assert (status, body) == (200, b"function-level")


async def test_host_cors_allows_listed_origin_with_credentials(make_host) -> None:
    """A listed origin gets its preflight answered and credentials allowed."""
    host = await make_host("basic", SETTINGS, cors_origins=("http://page.local",),
                           cors_credentials=True)
    status, _, headers = await host.request(
        "OPTIONS", "/api/negotiate",
        headers={"Origin": "http://page.local", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "x-ms-client-principal-name"})
    assert status == 204
    assert headers["Access-Control-Allow-Origin"] == "http://page.local"
    assert headers["Access-Control-Allow-Credentials"] == "true"
    assert headers["Access-Control-Allow-Methods"] == "POST"
    assert headers["Access-Control-Allow-Headers"] == "x-ms-client-principal-name"
    status, _, headers = await host.request("POST", "/api/echo", data=b"x",
                                            headers={"Origin": "http://page.local"})
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == "http://page.local"


async def test_host_cors_ignores_other_origins(make_host) -> None:
    """An origin not in Host.CORS gets no CORS headers."""
    host = await make_host("basic", SETTINGS, cors_origins=("http://page.local",))
    _, _, headers = await host.request("POST", "/api/echo", data=b"x",
                                       headers={"Origin": "http://evil.local"})
    assert "Access-Control-Allow-Origin" not in headers


async def test_host_route_prefix_from_host_json(make_host) -> None:
    """host.json extensions.http.routePrefix moves every HTTP route."""
    host = await make_host("prefixed", {})
    assert (await host.request("GET", "/v2/files/a/b"))[1] == b"a/b"
    assert (await host.request("GET", "/api/files/a/b"))[0] == 404


@pytest.mark.parametrize("path", ["/api/secret", "/runtime/webhooks/signalr"])
async def test_host_auth_refuses_a_key_that_is_not_utf8(make_host, tmp_path, path) -> None:
    """A key header with raw non-UTF-8 bytes is a wrong key (401), not a crash (500)."""
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(KEYS))
    host = await make_host("basic", SETTINGS, enable_auth=True, keys_file=keys)
    address = urlsplit(host.url)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    writer.write(f"POST {path} HTTP/1.1\r\nHost: {address.netloc}\r\n".encode()
                 + b"x-functions-key: \xff\xfe\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), TIMEOUT)
    writer.close()
    assert status_line.split()[1] == b"401"
