"""Route templates: parameters, constraints, optional and catch-all segments, precedence."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.errors import IndexingError
from emulator.functions.routes import compile_route


@pytest.mark.parametrize(("template", "path", "expected"), [
    ("items/{id}", "/items/7", {"id": "7"}),
    ("items/{id}", "/ITEMS/7", {"id": "7"}),
    ("items/{id:int}", "/items/x", None),
    ("items/{id:int}", "/items/-3", {"id": "-3"}),
    ("items/{id:int:min(5)}", "/items/3", None),
    ("items/{id:range(1,9)}", "/items/9", {"id": "9"}),
    ("items/{id:alpha}", "/items/abc", {"id": "abc"}),
    ("items/{id:guid}", "/items/00000000-0000-0000-0000-000000000000",
     {"id": "00000000-0000-0000-0000-000000000000"}),
    ("items/{id:bool}", "/items/True", {"id": "True"}),
    ("items/{id:length(2)}", "/items/abc", None),
    ("items/{id:regex(^a.c$)}", "/items/abc", {"id": "abc"}),
    ("items/{id?}", "/items", {}),
    ("items/{id?}", "/items/4", {"id": "4"}),
    ("files/{*rest}", "/files/a/b/c", {"rest": "a/b/c"}),
    ("files/{*rest}", "/files", {}),
    ("items/{id}", "/items", None),
    ("items/{id}", "/items/1/2", None),
    ("", "/", {}),
])
def test_routes_match(template, path, expected) -> None:
    assert compile_route(template).match(path) == expected


@pytest.mark.parametrize("template", [
    "a/{x}{y}", "a/{*rest}/b", "a/{x?}/b", "a/{x:nope}", "a/{x}/{X}", "a//b",
])
def test_routes_refuse_malformed_templates(template) -> None:
    with pytest.raises(IndexingError, match="route"):
        compile_route(template)


def test_routes_precedence_prefers_literals() -> None:
    routes = sorted([compile_route("{*all}"), compile_route("items/{id}"),
                     compile_route("items/new"), compile_route("items/{id:int}")],
                    key=lambda r: r.precedence)
    assert [r.template for r in routes] == ["items/new", "items/{id:int}", "items/{id}",
                                            "{*all}"]


@given(st.text(alphabet="ab{}*?:/()0123456789int", max_size=20),
       st.text(alphabet="ab/01", max_size=12))
def test_routes_any_template_compiles_or_raises_indexing_error(template, path) -> None:
    try:
        route = compile_route(template)
    except IndexingError:
        return
    result = route.match("/" + path)
    assert result is None or isinstance(result, dict)
