"""local.settings.json, environment precedence, host.json and the keys file."""

from __future__ import annotations

import json
import logging

import pytest

from emulator.errors import ConfigError, InvalidFunctionKey
from emulator.functions.config import (
    HostConfig,
    HostJson,
    load_host_json,
    load_local_settings,
    merge_settings,
    script_file_from_settings,
)
from emulator.functions.keys import KeyStore, key_from_request, load_or_create_keys


def test_config_load_local_settings(tmp_path) -> None:
    path = tmp_path / "local.settings.json"
    path.write_text(json.dumps({"IsEncrypted": False, "Values": {"A": "1", "B": True, "N": 2},
                                "Host": {"LocalHttpPort": "7072", "CORS": "http://a, http://b/",
                                         "CORSCredentials": True}}))
    values, host = load_local_settings(path)
    assert values == {"A": "1", "B": "true", "N": "2"}
    assert (host.local_http_port, host.cors_origins, host.cors_credentials) == (
        7072, ("http://a", "http://b"), True)


def test_config_missing_local_settings_is_empty(tmp_path) -> None:
    values, host = load_local_settings(tmp_path / "nope.json")
    assert values == {} and host.cors_origins == ()


@pytest.mark.parametrize(("content", "message"), [
    ("{", "invalid JSON"),
    ('{"IsEncrypted": true}', "IsEncrypted"),
    ('{"Values": {"A": {}}}', "Values.A"),
    ('{"Host": {"LocalHttpPort": "x"}}', "LocalHttpPort"),
    ('{"Host": {"CORSCredentials": "maybe"}}', "CORSCredentials"),
])
def test_config_local_settings_errors_name_the_key(tmp_path, content, message) -> None:
    path = tmp_path / "local.settings.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_local_settings(path)


def test_config_environment_wins_and_skip_is_logged(caplog) -> None:
    with caplog.at_level(logging.INFO, logger="emulator.functions"):
        merged = merge_settings({"A": "file", "B": "file"}, {"A": "env", "C": "env"})
    assert merged == {"A": "env", "B": "file", "C": "env"}
    assert "Skipping 'A' from local settings" in caplog.text


def test_config_script_file_setting() -> None:
    assert script_file_from_settings({}) == "function_app.py"
    assert script_file_from_settings({"PYTHON_SCRIPT_FILE_NAME": "main.py"}) == "main.py"
    with pytest.raises(ConfigError, match="PYTHON_SCRIPT_FILE_NAME"):
        script_file_from_settings({"PYTHON_SCRIPT_FILE_NAME": "../evil.py"})
    config = HostConfig(app_dir=".", settings={"PYTHON_SCRIPT_FILE_NAME": "main.py"})
    assert config.script_file == "main.py"


def test_config_host_json_route_prefix_and_durable_section() -> None:
    assert HostJson.from_json({}).route_prefix == "api"
    assert HostJson.from_json({"extensions": {"http": {"routePrefix": ""}}}).route_prefix == ""
    assert HostJson.from_json(
        {"extensions": {"http": {"routePrefix": "/v1/"}}}).route_prefix == "v1"
    assert HostJson.from_json(
        {"extensions": {"durableTask": {"hubName": "Hub"}}}).durable_task == {"hubName": "Hub"}
    with pytest.raises(ConfigError):
        HostJson.from_json({"extensions": {"http": {"routePrefix": 3}}})
    with pytest.raises(ConfigError):
        HostJson.from_json([1])


def test_config_missing_host_json_runs_with_defaults(tmp_path, caplog) -> None:
    caplog.set_level(logging.INFO)
    assert load_host_json(tmp_path) == HostJson()
    assert "No host configuration file found" in caplog.text


def test_keys_levels() -> None:
    store = KeyStore(master_key="m", function_keys={"default": "h"},
                     system_keys={"signalr_extension": "s"}, per_function={"F": {"x": "own"}})
    store.authorize_function("f", "anonymous", None)
    store.authorize_function("f", "function", "h")
    store.authorize_function("f", "function", "own")
    store.authorize_function("f", "admin", "m")
    store.authorize_system("signalr_extension", "s")
    for level, key in [("function", None), ("function", "s"), ("admin", "h"),
                       ("function", "wrong")]:
        with pytest.raises(InvalidFunctionKey):
            store.authorize_function("f", level, key)
    with pytest.raises(InvalidFunctionKey):
        store.authorize_system("signalr_extension", "h")


def test_keys_header_wins_over_code() -> None:
    assert key_from_request({"x-functions-key": "h"}, {"code": "q"}) == "h"
    assert key_from_request({}, {"code": "q"}) == "q"
    assert key_from_request({}, {}) is None


def test_keys_file_created_once(tmp_path) -> None:
    counter = iter(range(100))
    path = tmp_path / "keys" / "host_keys.json"
    first = load_or_create_keys(path, lambda: f"k{next(counter)}")
    second = load_or_create_keys(path, lambda: "other")
    assert first == second
    assert first.system_keys["signalr_extension"]
    assert path.stat().st_mode & 0o077 == 0


def test_keys_file_errors(tmp_path) -> None:
    with pytest.raises(ConfigError, match="masterKey"):
        KeyStore.from_json("{}")
    with pytest.raises(ConfigError, match="functionKeys"):
        KeyStore.from_json('{"masterKey": "m", "functionKeys": [1]}')
