"""``python -m emulator``'s one configuration: files, environment, flags, in that order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emulator.cli import parse_args
from emulator.config import (
    CONNECTION_SETTING,
    ConfigError,
    load_stack_config,
    reread_app_files,
    with_service_port,
)
from emulator.signalr import DEFAULT_ACCESS_KEY


def make_app_dir(
    tmp_path: Path,
    values: dict[str, str] | None = None,
    host: dict | None = None,
    example: bool = False,
) -> Path:
    (tmp_path / "host.json").write_text('{"version": "2.0"}')
    if values is not None or host is not None:
        name = "local.settings.json.example" if example else "local.settings.json"
        document = {"IsEncrypted": False, "Values": values or {}, "Host": host or {}}
        (tmp_path / name).write_text(json.dumps(document))
    return tmp_path


def test_stack_config_defaults_to_the_development_service(tmp_path: Path) -> None:
    config = load_stack_config(app_dir=make_app_dir(tmp_path), environ={})
    assert config.run_service
    assert (config.service_port, config.host_port) == (8888, 7071)
    assert config.access_keys == (DEFAULT_ACCESS_KEY,)
    assert config.settings[CONNECTION_SETTING].startswith("Endpoint=http://localhost;Port=8888;")


def test_stack_config_reads_the_example_when_there_is_no_local_settings(tmp_path: Path) -> None:
    app = make_app_dir(tmp_path, {"CHAT_ADMINS": "ada"}, {"LocalHttpPort": 7080}, example=True)
    config = load_stack_config(app_dir=app, environ={})
    assert config.settings["CHAT_ADMINS"] == "ada"
    assert config.host_port == 7080
    assert config.settings_file == app / "local.settings.json.example"


def test_stack_config_environment_wins_over_values(tmp_path: Path) -> None:
    app = make_app_dir(tmp_path, {"CHAT_ADMINS": "ada"})
    config = load_stack_config(app_dir=app, environ={"CHAT_ADMINS": "bob"})
    assert config.settings["CHAT_ADMINS"] == "bob"


def test_stack_config_flags_win_and_the_endpoint_follows_the_service_port(tmp_path: Path) -> None:
    app = make_app_dir(
        tmp_path,
        {CONNECTION_SETTING: "Endpoint=http://localhost;Port=9000;AccessKey=secret;Version=1.0;"},
    )
    config = load_stack_config(
        app_dir=app, bind="127.0.0.1", service_port=9100, host_port=0, environ={}
    )
    assert config.connection_string.endpoint == "http://127.0.0.1:9100"
    assert config.access_keys == ("secret",)
    assert config.host_port == 0
    moved = with_service_port(config, 43210)
    assert moved.settings[CONNECTION_SETTING] == (
        "Endpoint=http://127.0.0.1;Port=43210;AccessKey=secret;Version=1.0;"
    )


def test_stack_config_with_a_real_service_runs_only_the_host(tmp_path: Path) -> None:
    real = "Endpoint=https://x.service.signalr.net;AccessKey=k;Version=1.0;"
    config = load_stack_config(
        app_dir=make_app_dir(tmp_path, {CONNECTION_SETTING: real}), environ={}
    )
    assert not config.run_service
    assert config.settings[CONNECTION_SETTING] == real


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({CONNECTION_SETTING: "Endpoint=http://localhost;Port=99999;AccessKey=k"}, "Port"),
        ({CONNECTION_SETTING: "nonsense"}, "AzureSignalRConnectionString is invalid"),
    ],
)
def test_stack_config_names_a_bad_connection_string(
    tmp_path: Path, values: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_stack_config(app_dir=make_app_dir(tmp_path, values), environ={})


def test_stack_config_refuses_a_folder_without_an_app(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no host\.json"):
        load_stack_config(app_dir=tmp_path, environ={})


def test_stack_config_names_a_malformed_settings_file(tmp_path: Path) -> None:
    app = make_app_dir(tmp_path)
    (app / "local.settings.json").write_text("{not json")
    with pytest.raises(ConfigError, match=r"local\.settings\.json"):
        load_stack_config(app_dir=app, environ={})


def test_stack_config_runs_an_app_without_host_json(tmp_path: Path) -> None:
    (tmp_path / "function_app.py").write_text("import azure.functions as func\n")
    assert load_stack_config(app_dir=tmp_path, environ={}).app_dir == tmp_path.resolve()


def test_stack_config_refuses_a_folder_with_no_app(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no host\.json or function_app\.py here"):
        load_stack_config(app_dir=tmp_path, environ={})
    (tmp_path / "main_app.py").write_text("")
    config = load_stack_config(app_dir=tmp_path, environ={"PYTHON_SCRIPT_FILE_NAME": "main_app.py"})
    assert config.app_dir == tmp_path.resolve()


def test_queue_polling_flag_reaches_the_host_config(tmp_path: Path) -> None:
    args = parse_args(["start", "--queue-polling"])
    config = load_stack_config(app_dir=make_app_dir(tmp_path), environ={},
                               queue_polling=args.queue_polling)
    assert config.host_config("http://localhost:7071").queue_polling
    plain = load_stack_config(app_dir=make_app_dir(tmp_path), environ={},
                              queue_polling=parse_args([]).queue_polling)
    assert not plain.host_config("http://localhost:7071").queue_polling


def test_reread_app_files_takes_new_values_and_host_json_but_keeps_the_connection(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    app = make_app_dir(tmp_path, {"GREETING": "hi"}, example=True)
    config = with_service_port(load_stack_config(app_dir=app, environ={}), 43210)
    (app / "local.settings.json").write_text(json.dumps({"Values": {
        "GREETING": "hello",
        CONNECTION_SETTING: "Endpoint=http://localhost;Port=1;AccessKey=other;Version=1.0;"}}))
    (app / "host.json").write_text('{"version": "2.0", "extensions": {"http": '
                                   '{"routePrefix": "x"}}}')
    with caplog.at_level("WARNING", logger="emulator"):
        again = reread_app_files(config, environ={})
    assert again.settings["GREETING"] == "hello"
    assert again.settings_file == app / "local.settings.json"
    assert again.host_json.route_prefix == "x"
    assert again.settings[CONNECTION_SETTING] == config.settings[CONNECTION_SETTING]
    assert "keep the one they started with" in caplog.text


def test_reread_app_files_does_not_warn_when_the_bound_loopback_address_differs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    """--bind 127.0.0.1 with the example's localhost endpoint: the same service, no warning."""
    app = make_app_dir(tmp_path, {CONNECTION_SETTING: "Endpoint=http://localhost;Port=8888;"
                                  "AccessKey=k;Version=1.0;"}, example=True)
    config = with_service_port(load_stack_config(app_dir=app, bind="127.0.0.1", environ={}),
                               43210)
    assert config.connection_string.host == "127.0.0.1"
    with caplog.at_level("WARNING", logger="emulator"):
        reread_app_files(config, environ={})
    assert "keep the one they started with" not in caplog.text


def test_reread_app_files_keeps_a_settings_file_given_on_the_command_line(tmp_path: Path) -> None:
    app = make_app_dir(tmp_path, {"GREETING": "hi"})
    chosen = tmp_path / "elsewhere.json"
    chosen.write_text(json.dumps({"Values": {"GREETING": "chosen"}}))
    config = load_stack_config(app_dir=app, settings_file=chosen, environ={})
    assert reread_app_files(config, environ={}).settings["GREETING"] == "chosen"
