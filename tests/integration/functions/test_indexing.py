"""Apps the host loads by path: script name setting, blueprints, and a refused variant."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.functions import BindingError, ConfigError, HostConfig, make_app

APPS = Path(__file__).resolve().parents[2] / "apps"


async def test_host_loads_script_named_by_setting_with_blueprint(make_host) -> None:
    """PYTHON_SCRIPT_FILE_NAME selects the script; blueprint functions are served."""
    host = await make_host("scriptname", {"PYTHON_SCRIPT_FILE_NAME": "main_app.py"})
    assert (await host.request("GET", "/api/hello/ada"))[1] == b"hello ada"


def test_host_refuses_invalid_variant_at_start(tmp_path) -> None:
    """The invalid app is refused before serving with the worker's message and the fix."""
    config = HostConfig(app_dir=APPS / "invalid", settings={}, data_dir=tmp_path)
    with pytest.raises(BindingError) as caught:
        make_app(config)
    assert str(caught.value) == (
        'cannot load the ping function: Python return annotation "NoneType" does not match '
        "binding type \"http\" (annotate it '-> func.HttpResponse' or '-> str', or remove the "
        "annotation)")


DURABLE_HEADER = '''
import azure.functions as func
import azure.durable_functions as df

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)
'''


def write(tmp_path: Path, body: str) -> Path:
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    (app_dir / "function_app.py").write_text(DURABLE_HEADER + body)
    return app_dir


def test_host_refuses_async_entity_function(tmp_path) -> None:
    """An async entity would silently do nothing on Azure; the host refuses it at start."""
    app_dir = write(tmp_path, '''
@app.entity_trigger(context_name="context")
async def room(context):
    context.set_state(1)
''')
    with pytest.raises(BindingError, match="entity functions must be plain 'def'"):
        make_app(HostConfig(app_dir=app_dir, data_dir=tmp_path / "d"))


def test_host_refuses_sync_durable_client_function(tmp_path) -> None:
    """A sync function with a durable client fails on Azure; the host refuses it at start."""
    app_dir = write(tmp_path, '''
@app.route(route="x")
@app.durable_client_input(client_name="client")
def start(req: func.HttpRequest, client) -> func.HttpResponse:
    return func.HttpResponse("x")
''')
    with pytest.raises(BindingError, match="must be 'async def'"):
        make_app(HostConfig(app_dir=app_dir, data_dir=tmp_path / "d"))


def test_host_refuses_entity_context_name_other_than_context(tmp_path) -> None:
    """context_name must be 'context' for the worker to bind the entity trigger."""
    app_dir = write(tmp_path, '''
@app.entity_trigger(context_name="ctx")
def room(ctx):
    ctx.set_state(1)
''')
    with pytest.raises(BindingError, match="context_name='context'"):
        make_app(HostConfig(app_dir=app_dir, data_dir=tmp_path / "d"))


def test_host_refuses_orchestration_context_name_other_than_context(tmp_path) -> None:
    """context_name must be 'context' for the worker to bind the orchestration trigger."""
    app_dir = write(tmp_path, '''
@app.orchestration_trigger(context_name="ctx")
def flow(ctx):
    return None
''')
    with pytest.raises(BindingError, match="context_name='context'"):
        make_app(HostConfig(app_dir=app_dir, data_dir=tmp_path / "d"))


def test_host_refuses_bad_thread_count_setting(tmp_path) -> None:
    """A PYTHON_THREADPOOL_THREAD_COUNT out of range stops the host, naming the setting."""
    config = HostConfig(app_dir=APPS / "prefixed", data_dir=tmp_path,
                        settings={"PYTHON_THREADPOOL_THREAD_COUNT": "0"})
    with pytest.raises(ConfigError, match="PYTHON_THREADPOOL_THREAD_COUNT"):
        make_app(config)
