"""The HTTP trigger's request and response conversions, pure (docs/functions-host.md, "HTTP
trigger").

The host hands the worker the absolute URL, lower-cased header names with repeated values
comma-joined, the query with repeated values comma-joined and empty values dropped, the route
values as strings, and the body as bytes (RawHttpBodyBytes). The ``$return`` output accepts
``HttpResponse`` or ``str``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import azure.functions as func
from azure.functions.http import HttpRequest as WorkerHttpRequest

from ..errors import InvocationError

__all__ = ["ResponseParts", "build_http_request", "join_multi", "response_parts"]


def join_multi(items: Iterable[tuple[str, str]], *, lower: bool = False,
               drop_empty: bool = False) -> dict[str, str]:
    """Repeated names joined by ``,`` (first spelling kept unless ``lower``)."""
    result: dict[str, str] = {}
    for name, value in items:
        if drop_empty and value == "":
            continue
        key = name.lower() if lower else name
        result[key] = f"{result[key]},{value}" if key in result else value
    return result


def build_http_request(*, method: str, url: str, headers: Iterable[tuple[str, str]],
                       query: Iterable[tuple[str, str]], route_params: Mapping[str, str],
                       body: bytes) -> func.HttpRequest:
    """The ``func.HttpRequest`` the worker builds (``azure/functions/http.py``, ``decode``)."""
    return WorkerHttpRequest(
        method.upper(), url,
        headers=join_multi(headers, lower=True),
        params=join_multi(query, drop_empty=True),
        route_params=dict(route_params),
        body_type="bytes",
        body=body,
    )


@dataclass(frozen=True)
class ResponseParts:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


def response_parts(value: Any) -> ResponseParts:
    """Translate the ``$return`` value; anything but HttpResponse / str / None is an error."""
    if value is None:
        return ResponseParts(204, (), b"")
    if isinstance(value, str):
        return ResponseParts(200, (("Content-Type", "text/plain; charset=utf-8"),),
                             value.encode())
    if isinstance(value, func.HttpResponse):
        headers: list[tuple[str, str]] = []
        source = value.headers
        for name in list(source.keys()):
            values = source.get_all(name) if hasattr(source, "get_all") else [source[name]]
            headers.extend((name, v) for v in values)
        if not any(n.lower() == "content-type" for n, _ in headers):
            mimetype = value.mimetype or "text/plain"
            content_type = (f"{mimetype}; charset={value.charset}"
                            if mimetype.startswith("text/") else mimetype)
            headers.append(("Content-Type", content_type))
        return ResponseParts(int(value.status_code), tuple(headers), value.get_body() or b"")
    raise InvocationError(f"the function returned {type(value).__name__}; an HTTP function must "
                          f"return func.HttpResponse or str")
