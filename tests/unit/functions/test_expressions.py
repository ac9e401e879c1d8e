"""Binding expressions: settings, headers, query, route values and body fields."""

from __future__ import annotations

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
