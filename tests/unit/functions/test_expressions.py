"""Binding expressions: settings, headers, query, route values and body fields."""

from __future__ import annotations

import json

import pytest

from emulator.errors import BindingExpressionError
from emulator.functions.expressions import binding_data_for_http, resolve, resolve_settings


def http_data(**overrides):
    args = {"headers": {"X-MS-Client-Principal-Name": "alice"}, "query": {"userid": "q1"},
            "route_params": {"room": "lobby"}, "body": b'{"name": "bob", "list": [1]}',
            "content_type": "application/json"}
    args.update(overrides)
    return binding_data_for_http(**args)


@pytest.mark.parametrize(("template", "expected"), [
    ("{headers.x-ms-client-principal-name}", "alice"),
    ("{HEADERS.X-MS-CLIENT-PRINCIPAL-NAME}", "alice"),
    ("{query.userid}", "q1"),
    ("{userid}", "q1"),
    ("{room}", "lobby"),
    ("{name}", "bob"),
    ("user-{name}-%HUB%", "user-bob-chat"),
    ("plain", "plain"),
])
def test_expressions_resolve_http_binding_data(template, expected) -> None:
    assert resolve(template, http_data(), {"HUB": "chat"}) == expected


def test_expressions_query_keys_are_case_sensitive() -> None:
    with pytest.raises(BindingExpressionError, match=r"query\.UserId"):
        resolve("{query.UserId}", http_data(), {})


def test_expressions_missing_header_names_the_expression() -> None:
    with pytest.raises(BindingExpressionError,
                       match=r"Error while accessing 'headers.x-missing': property doesn't exist"):
        resolve("{headers.x-missing}", http_data(), {})


def test_expressions_array_body_fields_are_not_binding_data() -> None:
    with pytest.raises(BindingExpressionError):
        resolve("{list}", http_data(), {})


def test_expressions_code_query_is_not_top_level() -> None:
    data = http_data(query={"code": "secret"})
    with pytest.raises(BindingExpressionError):
        resolve("{code}", data, {})
    assert resolve("{query.code}", data, {}) == "secret"


def test_expressions_missing_setting_names_it() -> None:
    with pytest.raises(BindingExpressionError, match="app setting 'NOPE' is not set"):
        resolve_settings("%NOPE%", {})


def test_expressions_non_json_body_is_ignored() -> None:
    data = http_data(body=b"not json", content_type="text/plain")
    assert "name" not in data


# -- JSON bodies, as the WebJobs HTTP extension and Json.NET read them --------------------------
# Azure/azure-webjobs-sdk-extensions src/WebJobs.Extensions.Http/Utility.cs (ApplyBindingData),
# Azure/azure-webjobs-sdk src/Microsoft.Azure.WebJobs.Host/Bindings/BindingDataPathHelper.cs.

def body_data(body: dict, **overrides):
    return http_data(body=json.dumps(body).encode(), **overrides)


@pytest.mark.parametrize(("value", "expected"), [
    (True, "True"),
    (False, "False"),
    (42, "42"),
    (-7, "-7"),
    (1.0, "1"),              # a double, written by .NET without a trailing ".0"
    (2.5, "2.5"),
    (1e16, "10000000000000000"),
    (1e17, "1E+17"),
    (0.0001, "0.0001"),
    (0.00001, "1E-05"),
    ("2024-01-02T03:04:05Z", "01/02/2024 03:04:05"),           # Json.NET reads it as a date
    ("2024-01-02T03:04:05.123+02:00", "01/02/2024 01:04:05"),  # to UTC, fraction dropped
    ("2024-01-02", "2024-01-02"),                               # no time: stays a string
    ("2024-02-30T00:00:00", "2024-02-30T00:00:00"),             # no such day: stays a string
])
def test_expressions_body_scalars_format_like_dotnet(value, expected) -> None:
    assert resolve("{v}", body_data({"v": value}), {}) == expected


@pytest.mark.parametrize(("template", "expected"), [
    ("[{obj}]", "[]"),             # an object is not text: nothing, not JSON
    ("[{obj.list}]", "[]"),        # nor is an array inside it
    ("[{obj.inner}]", "[]"),
    ("[{obj.none}]", "[]"),        # a null inside an object is empty
    ("{obj.Name}", "bob"),         # object properties ignore case, like JObject
    ("{OBJ.NAME}", "bob"),
    ("{obj.flag}|{obj.ratio}", "True|1"),
    ("{obj.when}", "05/06/2024 07:08:09"),
])
def test_expressions_body_objects_walk_like_jobject(template, expected) -> None:
    data = body_data({"obj": {"name": "bob", "list": [1], "inner": {"a": 1}, "none": None,
                              "flag": True, "ratio": 1.0, "when": "2024-05-06T07:08:09Z"}})
    assert resolve(template, data, {}) == expected


def test_expressions_body_object_exact_name_wins_over_other_case() -> None:
    data = body_data({"obj": {"Key": "upper", "key": "lower"}})
    assert resolve("{obj.key}", data, {}) == "lower"
    assert resolve("{obj.Key}", data, {}) == "upper"
    assert resolve("{obj.KEY}", data, {}) == "upper"  # else the first that matches


def test_expressions_null_body_field_is_not_binding_data() -> None:
    with pytest.raises(BindingExpressionError, match="'gone'"):
        resolve("{gone}", body_data({"gone": None}), {})


def test_expressions_query_and_route_replace_body_fields_ignoring_case() -> None:
    data = body_data({"Room": "body", "UserId": "body"})
    assert resolve("{room}|{userid}", data, {}) == "lobby|q1"


def test_expressions_body_headers_field_takes_the_headers_slot() -> None:
    """As on Azure: the collections fill ``headers``/``query`` only when nothing else did, so a
    body field of that name (any case) shadows them."""
    data = body_data({"Headers": {"x-ms-client-principal-name": "mallory"}})
    assert resolve("{headers.x-ms-client-principal-name}", data, {}) == "mallory"
    data = http_data(query={"query": "x", "userid": "q1"})
    assert resolve("{query}", data, {}) == "x"


def test_expressions_body_nested_past_json_net_depth_gives_no_fields() -> None:
    def nested(levels: int) -> bytes:
        """``levels`` objects, one inside the next."""
        return b'{"top": 1, "a": ' + b'{"a": ' * (levels - 2) + b"{}" + b"}" * (levels - 1)

    assert resolve("{top}", http_data(body=nested(64)), {}) == "1"
    assert "top" not in http_data(body=nested(65))
