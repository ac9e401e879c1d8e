"""One bad function does not stop the app; what stops it is said with the worker's words."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from emulator.contracts import sign_connection_id
from emulator.functions import BindingError, HostConfig, IndexingError, make_app

ACCESS_KEY = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH"
SIGNALR = {"AzureSignalRConnectionString":
           f"Endpoint=http://localhost:8888;AccessKey={ACCESS_KEY};Version=1.0;"}


def write_app(tmp_path: Path, body: str, host_json: bool = True) -> Path:
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    (app_dir / "function_app.py").write_text(
        "import azure.functions as func\n\napp = func.FunctionApp("
        "http_auth_level=func.AuthLevel.ANONYMOUS)\n" + textwrap.dedent(body))
    if host_json:
        (app_dir / "host.json").write_text('{"version": "2.0"}')
    return app_dir


def upstream(event: str) -> dict:
    return {"headers": {"Content-Type": "application/json", "X-ASRS-Hub": "chat",
                        "X-ASRS-Category": "messages", "X-ASRS-Event": event,
                        "X-ASRS-Connection-Id": "c1",
                        "X-ASRS-Signature": sign_connection_id("c1", [ACCESS_KEY])},
            "data": json.dumps({"type": 1, "invocationId": "1", "target": event,
                                "arguments": ["hi"]}).encode()}


async def test_host_blob_function_is_in_error_and_the_rest_serve(host_logs, make_host) -> None:
    """A function with a blob binding is listed in error; negotiate and send still answer."""
    host = await make_host("with_blob", SIGNALR)
    [line] = host_logs.matching("function is in error")
    assert line == (
        "WARNING The 'save_message' function is in error: The binding type(s) 'blob' are not "
        "supported by the local host. Fix: Run this function with Core Tools (func start) and "
        "Azurite, or on Azure; the local host runs HTTP, timer, SignalR (signalRTrigger, "
        "signalRConnectionInfo, signalR) and Durable entity bindings.")
    [table] = host_logs.matching("Functions:")
    assert "negotiate: [POST]" in table and "save_message" not in table
    assert (await host.request("POST", "/api/negotiate"))[0] == 200
    assert (await host.request("POST", "/api/archive", data=b"{}"))[0] == 404


async def test_host_signalr_trigger_in_error_has_no_webhook_handler(host_logs, make_host,
                                                                    tmp_path) -> None:
    """parameterNames given as a string puts the trigger in error: its event gets a 404."""
    app_dir = write_app(tmp_path, '''
        @app.generic_trigger(arg_name="invocation", type="signalRTrigger", hub_name="chat",
                             category="messages", event="say", parameter_names="text")
        def say(invocation: str) -> str:
            return "said"

        @app.generic_trigger(arg_name="invocation", type="signalRTrigger", hub_name="chat",
                             category="messages", event="echo", parameter_names=["text"])
        def echo(invocation: str) -> str:
            return "echoed"
    ''')
    host = await make_host(app_dir, SIGNALR)
    assert host_logs.matching(
        r"The 'say' function is in error: Unable to configure binding 'invocation' of type "
        r"'signalRTrigger'\. .* Fix: pass a list: parameter_names=\['text'\]")
    status, _, _ = await host.request("POST", "/runtime/webhooks/signalr", **upstream("say"))
    assert status == 404
    status, body, _ = await host.request("POST", "/runtime/webhooks/signalr", **upstream("echo"))
    assert status == 200 and b'"result":"echoed"' in body


async def test_host_binding_name_with_double_underscore_is_in_error(host_logs, make_host,
                                                                    tmp_path) -> None:
    """A binding name the host's rule refuses errs that function only, with the host's text."""
    app_dir = write_app(tmp_path, '''
        @app.route(route="bad")
        @app.generic_output_binding(arg_name="out__put", type="signalR", hub_name="chat")
        def bad(req: func.HttpRequest, out__put: func.Out[str]) -> str:
            return "bad"

        @app.route(route="good")
        def good(req: func.HttpRequest) -> str:
            return "good"
    ''')
    host = await make_host(app_dir, SIGNALR)
    assert host_logs.matching(r"The 'bad' function is in error: The binding name out__put is "
                              r"invalid\. Please assign a valid name to the binding\.")
    assert (await host.request("GET", "/api/bad"))[0] == 404
    assert (await host.request("GET", "/api/good"))[1] == b"good"


async def test_host_signalr_binding_without_hub_is_in_error(host_logs, make_host,
                                                            tmp_path) -> None:
    """A negotiate function with no hub name is in error instead of handing out '?hub='."""
    app_dir = write_app(tmp_path, '''
        @app.route(route="negotiate", methods=["POST"])
        @app.generic_input_binding(arg_name="info", type="signalRConnectionInfo")
        def negotiate(req: func.HttpRequest, info: str) -> str:
            return info
    ''')
    host = await make_host(app_dir, SIGNALR)
    assert host_logs.matching(r"The 'negotiate' function is in error: The signalRConnectionInfo "
                              r"binding 'info' has no hubName")
    assert (await host.request("POST", "/api/negotiate"))[0] == 404


async def test_host_warns_at_start_about_an_unset_connection(host_logs, make_host) -> None:
    """An unset SignalR connection setting is a warning at start; the call then fails (500)."""
    host = await make_host("with_blob", {})
    assert host_logs.matching(r"WARNING Cannot find value named 'AzureSignalRConnectionString' "
                              r"in local.settings.json that matches the connection of 3 SignalR "
                              r"bindings in functions 'negotiate', 'send_message', 'echo'")
    assert (await host.request("POST", "/api/negotiate"))[0] == 500


async def test_host_warns_when_timers_have_no_storage_setting(host_logs, make_host) -> None:
    """Timers without AzureWebJobsStorage start with a warning, and without it once it is set."""
    await make_host("timers", {"TICK_SCHEDULE": "0 0 0 1 1 *"})
    assert host_logs.matching(r"WARNING Missing value for AzureWebJobsStorage")
    host_logs.lines.clear()
    await make_host("timers", {"TICK_SCHEDULE": "0 0 0 1 1 *",
                               "AzureWebJobsStorage": "UseDevelopmentStorage=true"})
    assert host_logs.matching("Functions:")
    assert not host_logs.matching("AzureWebJobsStorage")


async def test_host_runs_without_host_json_and_says_so(host_logs, make_host, tmp_path) -> None:
    """No host.json: the defaults apply (route prefix 'api') and the log says so."""
    app_dir = write_app(tmp_path, '''
        @app.route(route="hello")
        def hello(req: func.HttpRequest) -> str:
            return "hello"
    ''', host_json=False)
    host = await make_host(app_dir)
    assert host_logs.matching("No host configuration file found in .* Using the defaults")
    assert (await host.request("GET", "/api/hello"))[1] == b"hello"


@pytest.mark.parametrize(("body", "message"), [
    ('''
    @app.route(route="ping")
    def ping(req: func.HttpRequest) -> bytes:
        return b""
    ''', 'cannot load the ping function: Python return annotation "bytes" does not match '
         'binding type "http"'),
    ('''
    @app.route(route="ping")
    def ping(req: func.HttpRequest, context: str) -> str:
        return ""
    ''', 'cannot load the ping function: the "context" parameter is expected to be of type '
         "azure.functions.Context, got <class 'str'>"),
])
def test_host_refuses_the_whole_app_for_the_workers_refusals(tmp_path, body, message) -> None:
    """The worker's whole-app refusals stop the host with the worker's own message."""
    app_dir = write_app(tmp_path, body)
    with pytest.raises(BindingError) as caught:
        make_app(HostConfig(app_dir=app_dir, data_dir=tmp_path / "d"))
    assert str(caught.value).startswith(message)


def test_host_import_failure_stops_the_host(tmp_path) -> None:
    """Only a failure to import function_app.py (or a worker refusal) stops the host."""
    app_dir = write_app(tmp_path, "raise RuntimeError('no database')\n")
    with pytest.raises(IndexingError, match=r"importing function_app\.py failed: RuntimeError: "
                                            r"no database"):
        make_app(HostConfig(app_dir=app_dir, data_dir=tmp_path / "d"))


async def test_host_tries_routes_by_function_name_and_refuses_a_duplicate(host_logs, make_host,
                                                                          tmp_path) -> None:
    """As on Azure (azure-functions-host#9876): the first function by name whose route matches
    serves, however specific the others are; the same route for a method in common is an error."""
    app_dir = write_app(tmp_path, '''
        @app.route(route="products/list", methods=["GET"])
        def List(req: func.HttpRequest) -> str:
            return "list"

        @app.route(route="products/{id}", methods=["GET"])
        def Details(req: func.HttpRequest) -> str:
            return "details " + req.route_params["id"]

        @app.route(route="/Products/List/", methods=["GET", "POST"])
        def zlist(req: func.HttpRequest) -> str:
            return "never"
    ''')
    host = await make_host(app_dir)
    assert (await host.request("GET", "/api/products/list"))[1] == b"details list"
    assert (await host.request("POST", "/api/products/list"))[0] == 404
    assert host_logs.matching("The 'zlist' function is in error: The route specified conflicts "
                              "with the route defined by function 'List'.")
