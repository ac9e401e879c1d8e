"""Route templates: parameters, constraints, defaults, optional and catch-all segments, order.

Expected values follow ASP.NET Core's RoutePatternMatcher / PathTokenizer / RouteParameterParser
(dotnet/aspnetcore src/Http/Routing/src) and the host's route order (function name,
OrdinalIgnoreCase; Azure/azure-functions-host FunctionMetadataManager).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.errors import IndexingError
from emulator.functions.routes import compile_route, host_order_key


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
    ("", "", {}),
    ("items/{id}", "/items/7/", {"id": "7"}),
    ("items/{id}", "/items/7//", None),
    ("items/{id}", "//items/7", None),
    ("files/{*rest}", "/files/", {}),
    ("files/{*rest}", "/files/a/b/", {"rest": "a/b/"}),
    ("files/{*rest}", "/files/a//b", {"rest": "a//b"}),
    ("files/{*rest}", "/files//a", None),
    ("files/{**rest}", "/files/a/b", {"rest": "a/b"}),
    ("files/{*rest:int}", "/files/12", {"rest": "12"}),
    ("files/{*rest:int}", "/files/abc", None),
    ("files/{*rest:int}", "/files", None),
    ("files/{*rest=none}", "/files", {"rest": "none"}),
    ("items/{id=5}", "/items", {"id": "5"}),
    ("items/{id=5}", "/items/9", {"id": "9"}),
    ("items/{id:int=5}", "/items", {"id": "5"}),
    ("items/{id:int=x}", "/items", None),
    ("items/{id:regex(a=b)=ab}", "/items", None),
    ("items/{id:int?}", "/items", {}),
    ("items/{id:int?}", "/items/x", None),
    ("items/{a?}/{b?}", "/items", {}),
    ("items/{a?}/{b?}", "/items/1", {"a": "1"}),
    ("items/{a?}/{b?}", "/items/1/2", {"a": "1", "b": "2"}),
    ("a/{x?}/b", "/a/1/b", {"x": "1"}),
    ("a/{x?}/b", "/a/b", None),
])
def test_routes_match(template, path, expected) -> None:
    assert compile_route(template).match(path) == expected


@pytest.mark.parametrize("template", [
    "a/{x}{y}", "a/{*rest}/b", "a/{x:nope}", "a/{x}/{X}", "a//b", "a/{*rest?}", "a/{x=1?}",
    "a/{x:int junk}",
])
def test_routes_refuse_malformed_templates(template) -> None:
    with pytest.raises(IndexingError, match="route"):
        compile_route(template)


def test_host_order_key_sorts_like_ordinal_ignore_case() -> None:
    # OrdinalIgnoreCase upper-cases ASCII letters, so "_" (0x5F) sorts after every letter and "-"
    # and digits before them; lower-casing would put "get_x" before "getx".
    names = ["get_x", "GetX", "get-x", "get1", "Getx2"]
    assert sorted(names, key=host_order_key) == ["get-x", "get1", "GetX", "Getx2", "get_x"]


def test_host_tries_routes_in_function_name_order_not_by_template() -> None:
    # Azure/azure-functions-host#9876: "Details" (products/{id}) is tried before "List"
    # (products/list), so it wins /products/list even though the literal is more specific.
    functions = {"List": "products/list", "Details": "products/{id}"}
    ordered = sorted(functions, key=host_order_key)
    winner = next(name for name in ordered if compile_route(functions[name]).match(
        "/products/list") is not None)
    assert winner == "Details"


@given(st.text(alphabet="ab{}*?:/()0123456789int", max_size=20),
       st.text(alphabet="ab/01", max_size=12))
def test_routes_any_template_compiles_or_raises_indexing_error(template, path) -> None:
    try:
        route = compile_route(template)
    except IndexingError:
        return
    result = route.match("/" + path)
    assert result is None or isinstance(result, dict)
