"""The HTTP trigger's request building and response translation."""

from __future__ import annotations

from http import HTTPStatus

import azure.functions as func
import pytest

from emulator.errors import InvocationError
from emulator.functions.http_binding import build_http_request, join_multi, response_parts


def test_http_binding_request_like_the_worker() -> None:
    req = build_http_request(
        method="post", url="http://h/api/x?a=1&a=2&e=",
        headers=[("X-One", "1"), ("x-one", "2"), ("Content-Type", "application/json")],
        query=[("a", "1"), ("a", "2"), ("e", "")], route_params={"id": "7"},
        body=b'{"k": 1}')
    assert req.method == "POST"
    assert req.headers["x-one"] == "1,2"
    assert req.headers["X-ONE"] == "1,2"
    assert dict(req.params) == {"a": "1,2"}
    assert dict(req.route_params) == {"id": "7"}
    assert req.get_body() == b'{"k": 1}'
    assert req.get_json() == {"k": 1}


def test_http_binding_join_multi_keeps_first_spelling() -> None:
    assert join_multi([("A", "1"), ("a", "2")]) == {"A": "1", "a": "2"}
    assert join_multi([("A", "1"), ("a", "2")], lower=True) == {"a": "1,2"}


def test_http_binding_response_defaults() -> None:
    parts = response_parts(func.HttpResponse("hé"))
    assert (parts.status, parts.body) == (200, "hé".encode())
    assert ("Content-Type", "text/plain; charset=utf-8") in parts.headers


def test_http_binding_response_keeps_headers_and_status() -> None:
    response = func.HttpResponse(b"{}", status_code=HTTPStatus.CREATED, mimetype="application/json",
                                 headers={"X-A": "1", "Content-Type": "application/x"})
    parts = response_parts(response)
    assert parts.status == 201
    assert ("X-A", "1") in parts.headers
    assert [v for n, v in parts.headers if n.lower() == "content-type"] == ["application/x"]


def test_http_binding_str_and_none_returns() -> None:
    assert response_parts("ok").body == b"ok"
    assert response_parts(None).status == 204


@pytest.mark.parametrize("value", [{"a": 1}, [1], 3])
def test_http_binding_refuses_other_returns(value) -> None:
    with pytest.raises(InvocationError, match=r"must return func\.HttpResponse or str"):
        response_parts(value)
