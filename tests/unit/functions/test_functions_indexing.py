"""Indexing like the worker and the host: discovery, naming rules and annotation rules."""

from __future__ import annotations

import textwrap
from pathlib import Path

import azure.functions as func
import pytest

from emulator.functions.errors import BindingError, IndexingError
from emulator.functions.indexing import describe_function, load_functions, parse_binding

HTTP = [{"direction": "IN", "type": "httpTrigger", "name": "req", "authLevel": "ANONYMOUS"},
        {"direction": "OUT", "type": "http", "name": "$return"}]


@pytest.fixture(autouse=True)
def _isolated_imports():
    """Apps written by these tests never leak into sys.modules / sys.path."""
    import sys

    before_path = list(sys.path)
    before = {k: sys.modules.get(k) for k in ("function_app", "main_app", "things")}
    yield
    sys.path[:] = before_path
    for name, module in before.items():
        if module is None:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = module


def write_app(tmp_path: Path, body: str, name: str = "function_app.py") -> Path:
    (tmp_path / name).write_text("import azure.functions as func\n" + textwrap.dedent(body))
    return tmp_path


def test_indexing_parse_binding_enums_case_insensitive() -> None:
    binding = parse_binding("f", '{"Direction": "Out", "Type": "signalR", "Name": "msgs", '
                                 '"hubName": "chat"}')
    assert (binding.direction, binding.kind, binding.get("HUBNAME")) == ("out", "signalr", "chat")
    assert not binding.is_trigger


def test_indexing_refuses_underscore_binding_name() -> None:
    with pytest.raises(BindingError, match=r"signalr_messages is invalid.*'signalrmessages'"):
        parse_binding("f", {"direction": "OUT", "type": "signalR", "name": "signalr_messages"})


@pytest.mark.parametrize("name", ["1abc", "host", "a b", "x" * 129])
def test_indexing_refuses_bad_function_names(name) -> None:
    def handler(req):
        return None

    with pytest.raises(IndexingError, match="is not a valid function name"):
        describe_function(name, HTTP, handler)


def test_indexing_parameters_must_equal_bindings() -> None:
    def extra(req, other):
        return None

    def missing():
        return None

    with pytest.raises(BindingError, match=r"declared in Python but not in function.json.*other"):
        describe_function("f", HTTP, extra)
    with pytest.raises(BindingError, match=r"declared in function.json but not in Python.*req"):
        describe_function("f", HTTP, missing)


def test_indexing_context_parameter_is_allowed() -> None:
    async def handler(req, context):
        return None

    info = describe_function("f", HTTP, handler)
    assert info.has_context and info.is_async


def test_indexing_refuses_out_dict_for_generic_output() -> None:
    def handler(req: func.HttpRequest, msgs: func.Out[dict]) -> str:
        return ""

    bindings = [*HTTP, {"direction": "OUT", "type": "signalR", "name": "msgs"}]
    with pytest.raises(BindingError, match=r"Function 'f', binding 'msgs'.*Out\[dict\]"):
        describe_function("f", bindings, handler)


def test_indexing_refuses_dict_trigger_parameter() -> None:
    def handler(invocation: dict) -> None:
        return None

    bindings = [{"direction": "IN", "type": "signalRTrigger", "name": "invocation"}]
    with pytest.raises(BindingError, match="annotate it str or bytes"):
        describe_function("f", bindings, handler)


def test_indexing_refuses_unannotated_out_mismatch() -> None:
    def handler(req: func.HttpRequest, msgs: str) -> str:
        return ""

    bindings = [*HTTP, {"direction": "OUT", "type": "signalR", "name": "msgs"}]
    with pytest.raises(BindingError, match=r"not a subclass of azure\.functions\.Out"):
        describe_function("f", bindings, handler)


def test_indexing_refuses_unsupported_types_runs_orchestrations() -> None:
    def handler(msg):
        return None

    with pytest.raises(BindingError, match="'queueTrigger', which the local host cannot run"):
        describe_function("f", [{"direction": "IN", "type": "queueTrigger", "name": "msg"}],
                          handler)
    with pytest.raises(BindingError, match="context_name='context'"):
        describe_function("f", [{"direction": "IN", "type": "orchestrationTrigger",
                                 "name": "msg"}], handler)
    info = describe_function("f", [{"direction": "IN", "type": "activityTrigger",
                                    "name": "msg"}], handler)
    assert info.trigger.kind == "activitytrigger"


def test_indexing_needs_exactly_one_trigger() -> None:
    def handler(req):
        return None

    with pytest.raises(BindingError, match="one and only one trigger, found 0"):
        describe_function("f", [{"direction": "IN", "type": "signalRConnectionInfo",
                                 "name": "req"}], handler)


def test_indexing_no_function_app(tmp_path) -> None:
    write_app(tmp_path, "x = 1\n")
    with pytest.raises(IndexingError,
                       match=r"Could not find top level function app instances in "
                             r"function_app\.py"):
        load_functions(tmp_path, "function_app.py")


def test_indexing_two_function_apps(tmp_path) -> None:
    write_app(tmp_path, "a = func.FunctionApp()\nb = func.FunctionApp()\n")
    with pytest.raises(IndexingError, match="More than one FunctionApp"):
        load_functions(tmp_path, "function_app.py")


def test_indexing_missing_script_names_the_setting(tmp_path) -> None:
    with pytest.raises(IndexingError, match="PYTHON_SCRIPT_FILE_NAME"):
        load_functions(tmp_path, "function_app.py")


def test_indexing_import_error_is_reported(tmp_path) -> None:
    write_app(tmp_path, "raise RuntimeError('broken at import')\n")
    with pytest.raises(IndexingError, match="broken at import"):
        load_functions(tmp_path, "function_app.py")


def test_indexing_blueprint_and_other_script_name(tmp_path) -> None:
    (tmp_path / "things.py").write_text(textwrap.dedent("""
        import azure.functions as func
        bp = func.Blueprint()

        @bp.route(route="bp/{x}", methods=["GET"])
        def from_blueprint(req: func.HttpRequest) -> str:
            return req.route_params["x"]
    """))
    write_app(tmp_path, """
        from things import bp
        app = func.FunctionApp()
        app.register_functions(bp)

        @app.route(route="own")
        def own(req: func.HttpRequest) -> str:
            return "own"
    """, name="main_app.py")
    infos, imported = load_functions(tmp_path, "main_app.py")
    imported.restore()
    assert [(i.name, i.route, i.methods, i.auth_level) for i in infos] == [
        ("from_blueprint", "bp/{x}", ("GET",), "function"), ("own", "own", (), "function")]
