"""Indexing like the worker and the host: discovery, naming rules and annotation rules."""

from __future__ import annotations

import textwrap
from pathlib import Path

import azure.functions as func
import pytest

from emulator.errors import BindingError, FunctionIndexingError, IndexingError
from emulator.functions.indexing import (
    BINDING_NAME,
    FunctionError,
    describe_function,
    load_functions,
    parse_binding,
)

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


@pytest.mark.parametrize("name", ["signalr_messages", "_private", "a1_b2_c3", "$return",
                                  "camelCase", "x" * 128])
def test_indexing_binding_name_rule_of_current_hosts_accepts(name) -> None:
    assert BINDING_NAME.match(name)


@pytest.mark.parametrize("name", ["a__b", "__x", "1abc", "a-b", "a b", "", "x" * 129, "$ret"])
def test_indexing_binding_name_rule_of_current_hosts_refuses(name) -> None:
    assert not BINDING_NAME.match(name)


def test_indexing_snake_case_binding_names_index() -> None:
    def handler(req: func.HttpRequest, signalr_messages: func.Out[str]) -> str:
        return ""

    bindings = [*HTTP, {"direction": "OUT", "type": "signalR", "name": "signalr_messages",
                        "hubName": "chat"}]
    info = describe_function("send_message", bindings, handler)
    assert [b.name for b in info.bindings] == ["req", "$return", "signalr_messages"]


def test_indexing_double_underscore_puts_only_that_function_in_error() -> None:
    def handler(req: func.HttpRequest, out__x: func.Out[str]) -> str:
        return ""

    bindings = [*HTTP, {"direction": "OUT", "type": "signalR", "name": "out__x"}]
    with pytest.raises(FunctionIndexingError) as caught:
        describe_function("f", bindings, handler)
    error = FunctionError.of(caught.value)
    assert error.message.startswith("The 'f' function is in error: The binding name out__x is "
                                    "invalid. Please assign a valid name to the binding.")
    assert "'out_x'" in error.fix


@pytest.mark.parametrize("name", ["1abc", "host", "a b", "x" * 129])
def test_indexing_bad_function_names_put_the_function_in_error(name) -> None:
    def handler(req):
        return None

    with pytest.raises(FunctionIndexingError, match="is not a valid function name"):
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


def test_indexing_unsupported_types_error_the_function_orchestrations_run() -> None:
    def handler(msg):
        return None

    with pytest.raises(FunctionIndexingError,
                       match="'queueTrigger' are not supported by the local host") as caught:
        describe_function("f", [{"direction": "IN", "type": "queueTrigger", "name": "msg"}],
                          handler)
    assert "Core Tools" in caught.value.fix
    with pytest.raises(BindingError, match="context_name='context'"):
        describe_function("f", [{"direction": "IN", "type": "orchestrationTrigger",
                                 "name": "msg"}], handler)
    info = describe_function("f", [{"direction": "IN", "type": "activityTrigger",
                                    "name": "msg"}], handler)
    assert info.trigger.kind == "activitytrigger"


def test_indexing_needs_exactly_one_trigger() -> None:
    def handler(req):
        return None

    with pytest.raises(FunctionIndexingError, match="No trigger binding specified"):
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
    indexed = load_functions(tmp_path, "main_app.py")
    indexed.imported.restore()
    assert [(i.name, i.route, i.methods, i.auth_level) for i in indexed.functions] == [
        ("from_blueprint", "bp/{x}", ("GET",), "function"), ("own", "own", (), "function")]


@pytest.mark.parametrize(("annotation", "shown"), [
    (None, "NoneType"), (bytes, "bytes"), (int, "int"), (dict, "dict")])
def test_indexing_http_return_annotation_refuses_the_whole_app(annotation, shown) -> None:
    def handler(req: func.HttpRequest):
        return None

    handler.__annotations__["return"] = annotation
    with pytest.raises(BindingError) as caught:
        describe_function("ping", HTTP, handler)
    assert str(caught.value).startswith(
        f'cannot load the ping function: Python return annotation "{shown}" does not match '
        f'binding type "http"')
    assert "'-> func.HttpResponse' or '-> str'" in str(caught.value)


@pytest.mark.parametrize("annotation", [func.HttpResponse, str, "absent"])
def test_indexing_http_return_annotation_accepts_response_and_str(annotation) -> None:
    def handler(req: func.HttpRequest):
        return None

    if annotation != "absent":
        handler.__annotations__["return"] = annotation
    assert describe_function("ping", HTTP, handler).name == "ping"


def test_indexing_http_return_annotation_that_is_not_a_type() -> None:
    def handler(req: func.HttpRequest) -> func.HttpResponse | None:
        return None

    with pytest.raises(BindingError, match="cannot load the ping function: has invalid "
                                           "non-type return annotation"):
        describe_function("ping", HTTP, handler)


def test_indexing_context_annotation_must_be_func_context() -> None:
    def handler(req: func.HttpRequest, context: str) -> str:
        return ""

    with pytest.raises(BindingError) as caught:
        describe_function("f", HTTP, handler)
    assert str(caught.value).startswith(
        "cannot load the f function: the \"context\" parameter is expected to be of type "
        "azure.functions.Context, got <class 'str'>")

    def typed(req: func.HttpRequest, context: func.Context) -> str:
        return ""

    assert describe_function("f", HTTP, typed).has_context


def test_indexing_inout_bindings_refuse_the_whole_app() -> None:
    def handler(req: func.HttpRequest, state: str) -> str:
        return ""

    bindings = [*HTTP, {"direction": "INOUT", "type": "blob", "name": "state"}]
    with pytest.raises(BindingError, match='"inout" bindings are not supported'):
        describe_function("f", bindings, handler)


TIMER = [{"direction": "IN", "type": "timerTrigger", "name": "timer", "schedule": "0 * * * * *"}]


@pytest.mark.parametrize("annotation", [func.TimerRequest, str, "absent"])
def test_indexing_timer_trigger_annotations_the_worker_accepts(annotation) -> None:
    def handler(timer) -> None:
        return None

    if annotation != "absent":
        handler.__annotations__["timer"] = annotation
    assert describe_function("tick", TIMER, handler).trigger.kind == "timertrigger"


def test_indexing_timer_trigger_refuses_dict_annotation() -> None:
    def handler(timer: dict) -> None:
        return None

    with pytest.raises(BindingError, match="annotate it TimerRequest or str or bytes"):
        describe_function("tick", TIMER, handler)


def test_indexing_one_bad_function_leaves_the_others(tmp_path) -> None:
    write_app(tmp_path, """
        app = func.FunctionApp()

        @app.route(route="ok")
        def ok(req: func.HttpRequest) -> str:
            return "ok"

        @app.route(route="archive")
        @app.blob_output(arg_name="archive", path="c/{rand-guid}", connection="Storage")
        def archive(req: func.HttpRequest, archive: func.Out[str]) -> str:
            return "saved"
    """)
    indexed = load_functions(tmp_path, "function_app.py")
    indexed.imported.restore()
    assert [f.name for f in indexed.functions] == ["ok"]
    assert [(e.function, e.reason) for e in indexed.errors] == [
        ("archive", "The binding type(s) 'blob' are not supported by the local host.")]


def test_indexing_worker_refusal_beats_a_function_error(tmp_path) -> None:
    write_app(tmp_path, """
        app = func.FunctionApp()

        @app.route(route="archive")
        @app.blob_output(arg_name="archive", path="c/x", connection="Storage")
        def archive(req: func.HttpRequest, archive: func.Out[str]) -> str:
            return "saved"

        @app.route(route="ping")
        def ping(req: func.HttpRequest) -> None:
            return None
    """)
    with pytest.raises(BindingError, match="cannot load the ping function"):
        load_functions(tmp_path, "function_app.py")
