"""Registering indexed functions by trigger: what the extensions refuse is one function's error."""

from __future__ import annotations

from datetime import timedelta

import azure.functions as func
import pytest

from emulator.functions.indexing import FunctionInfo, describe_function
from emulator.functions.registration import register_functions
from emulator.functions.schedules import ConstantSchedule
from emulator.functions.startup_checks import binding_name_notes, settings_warnings
from emulator.functions.time_zones import host_time_zone

CONNECTION = "Endpoint=http://localhost;Port=8888;AccessKey=x;Version=1.0;"


def http(name: str, route: str = "r", *extra: dict,
         methods: tuple[str, ...] = ()) -> FunctionInfo:
    trigger = {"direction": "IN", "type": "httpTrigger", "name": "req", "route": route,
               **({"methods": list(methods)} if methods else {})}
    bindings = [trigger, {"direction": "OUT", "type": "http", "name": "$return"}, *extra]

    names = ", ".join(["req", *(b["name"] for b in extra)])
    namespace: dict = {"func": func}
    exec(f"def handler({names}):\n    return ''", namespace)  # one parameter per binding
    return describe_function(name, bindings, namespace["handler"])


def trigger(name: str, **properties: object) -> FunctionInfo:
    binding = {"direction": "IN", "type": "signalRTrigger", "name": "invocation",
               "hubName": "chat", "category": "messages", "event": name, **properties}

    def handler(invocation: str) -> None:
        return None

    return describe_function(name, [binding], handler)


def timer(name: str, schedule: object, **properties: object) -> FunctionInfo:
    binding = {"direction": "IN", "type": "timerTrigger", "name": "timer",
               "schedule": schedule, **properties}

    def handler(timer: func.TimerRequest) -> None:
        return None

    return describe_function(name, [binding], handler)


def errors_of(*functions: FunctionInfo, settings: dict | None = None) -> dict[str, str]:
    found = register_functions(functions, settings or {})
    return {e.function: f"{e.reason} | {e.fix}" for e in found.errors}


def test_registration_serves_the_good_functions_beside_the_bad() -> None:
    found = register_functions([http("ok"), http("bad", "a/{b"), trigger("echo")], {})
    assert [f.name for f in found.functions] == ["ok", "echo"]
    assert [e.function for e in found.errors] == ["bad"]
    assert [info.name for _, info in found.http_routes] == ["ok"]
    assert list(found.triggers) == [("chat", "messages", "echo")]


def test_registration_orders_routes_by_function_name_as_the_host_does() -> None:
    # Azure/azure-functions-host#9876: no ranking of templates; the first function by name wins.
    found = register_functions([http("List", "products/list"),
                                http("Details", "products/{id}"), http("all", "{*rest}")], {})
    assert [info.name for _, info in found.http_routes] == ["all", "Details", "List"]
    assert not found.errors


def test_registration_refuses_a_route_another_function_maps_for_the_same_method() -> None:
    found = register_functions([http("b_read", "/Items/", methods=("get",)),
                                http("a_read", "items", methods=("GET",)),
                                http("write", "items", methods=("post",)), http("z_any", "items")],
                               {})
    assert [info.name for _, info in found.http_routes] == ["a_read", "write"]
    assert [f.name for f in found.functions] == ["a_read", "write"]
    assert {e.function: e.reason for e in found.errors} == {
        "z_any": "The route specified conflicts with the route defined by function 'a_read'.",
        "b_read": "The route specified conflicts with the route defined by function 'a_read'.",
    }


def test_registration_refuses_routes_under_admin() -> None:
    assert errors_of(http("ops", "/Admin/tools")) == {
        "ops": "The specified route conflicts with one or more built in routes. | choose a route "
               "that does not start with 'admin'."}


def test_registration_parameter_names_as_a_string_is_that_functions_error() -> None:
    error = errors_of(trigger("say", parameterNames="text"))["say"]
    assert error.startswith("Unable to configure binding 'invocation' of type 'signalRTrigger'. "
                            "This may indicate invalid function.json properties. Error "
                            "converting value 'text' to type 'System.String[]'.")
    assert "parameter_names=['text']" in error


def test_registration_parameter_names_must_be_unique() -> None:
    assert "must be unique" in errors_of(trigger("say", parameterNames=["a", "A"]))["say"]


def test_registration_duplicated_trigger_key_errors_the_second_function() -> None:
    first = trigger("echo")
    second = describe_function("echo2", [{"direction": "IN", "type": "signalRTrigger",
                                          "name": "invocation", "hubName": "CHAT",
                                          "category": "messages", "event": "Echo"}],
                               lambda invocation: None)
    assert errors_of(first, second)["echo2"].startswith("Duplicated key parameter")


def test_registration_unknown_setting_and_bad_category() -> None:
    errors = errors_of(trigger("a", hubName="%MISSING%"), trigger("b", category="nope"))
    assert "'%MISSING%' does not resolve to a value" in errors["a"]
    assert "category must be 'connections' or 'messages'" in errors["b"]


def test_registration_signalr_binding_without_hub_is_in_error() -> None:
    output = {"direction": "OUT", "type": "signalR", "name": "messages"}
    error = errors_of(http("send", "send", output))["send"]
    assert error.startswith("The signalR binding 'messages' has no hubName")
    assert "hub_name=" in error


def test_registration_timers_with_settings_in_the_schedule() -> None:
    found = register_functions([timer("tick", "%EVERY%", runOnStartup="true")],
                               {"EVERY": "00:00:30"})
    [spec] = found.timers
    assert (spec.schedule, spec.run_on_startup, spec.use_monitor) == \
        (ConstantSchedule(timedelta(seconds=30)), True, True)
    assert spec.expression == "00:00:30"


@pytest.mark.parametrize(("schedule", "properties", "message"), [
    ("every day", {}, "Error indexing method 'Functions.tick'. The schedule expression 'every "
                      "day' was not recognized as a valid cron expression or timespan string."),
    ("%NOPE%", {}, "'%NOPE%' does not resolve to a value"),
    (None, {}, "The timer trigger has no schedule."),
    ("0 * * * * *", {"useMonitor": "sometimes"}, "Could not convert 'sometimes' to a boolean"),
])
def test_registration_bad_timers_are_in_error(schedule, properties, message) -> None:
    assert message in errors_of(timer("tick", schedule, **properties))["tick"]


def test_startup_checks_warn_about_unset_connections() -> None:
    negotiate = http("negotiate", "negotiate", {"direction": "IN", "type": "signalRConnectionInfo",
                                                "name": "info", "hubName": "chat",
                                                "connectionStringSetting": "MySignalR"})
    warnings = settings_warnings([negotiate, trigger("echo")], {})
    assert warnings == [
        "Cannot find value named 'MySignalR' in local.settings.json that matches the "
        "'connectionStringSetting' property set on 'signalRConnectionInfo' in function "
        "'negotiate'; its calls will fail. Set MySignalR in local.settings.json Values (for the "
        "local SignalR Service: Endpoint=http://localhost;Port=8888;AccessKey=<key>;Version=1.0;).",
        "Cannot find value named 'AzureSignalRConnectionString' in local.settings.json that "
        "matches the default connection set on 'signalRTrigger' in function 'echo'; its calls "
        "will fail. Set AzureSignalRConnectionString in local.settings.json Values (for the local "
        "SignalR Service: Endpoint=http://localhost;Port=8888;AccessKey=<key>;Version=1.0;)."]
    assert settings_warnings([negotiate], {"ConnectionStrings:MySignalR": CONNECTION}) == []
    [shared] = settings_warnings([trigger("echo"), trigger("ping"), trigger("echo2")], {})
    assert shared.startswith("Cannot find value named 'AzureSignalRConnectionString' in "
                             "local.settings.json that matches the connection of 3 SignalR "
                             "bindings in functions 'echo', 'ping', 'echo2'; their calls will "
                             "fail.")
    assert settings_warnings([negotiate], {"MySignalR__serviceUri": "https://x"}) == []


def test_startup_checks_warn_when_timers_have_no_storage() -> None:
    tick = timer("tick", "0 * * * * *")
    [warning] = settings_warnings([tick], {})
    assert warning.startswith("Missing value for AzureWebJobsStorage in local.settings.json. On "
                              "Azure timer triggers keep their schedule status")
    assert settings_warnings([tick], {"AzureWebJobsStorage": "UseDevelopmentStorage=true"}) == []
    assert settings_warnings([http("ok")], {}) == []


def test_startup_checks_note_snake_case_for_older_hosts() -> None:
    output = {"direction": "OUT", "type": "signalR", "name": "signalr_messages", "hubName": "c"}
    [note] = binding_name_notes([http("send", "send", output)])
    assert "hosts before 4.1038 refuse it" in note


def test_time_zone_from_settings_then_machine() -> None:
    assert host_time_zone({"WEBSITE_TIME_ZONE": "Europe/Paris", "TZ": "Asia/Tokyo"}) \
        .description == "Europe/Paris (from WEBSITE_TIME_ZONE)"
    assert host_time_zone({"TZ": ":Asia/Tokyo"}).description == ":Asia/Tokyo (from TZ)"
    windows = host_time_zone({"WEBSITE_TIME_ZONE": "Eastern Standard Time"})
    assert windows.problem is not None and "IANA name" in windows.problem
    assert windows.description.endswith("(this machine's time zone)")
