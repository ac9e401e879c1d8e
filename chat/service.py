"""Requests to the SignalR Service's data-plane REST API (``2022-06-01``), described as data.

The output binding covers sends and group changes, but nothing answers a question such as
"does this connection still exist?" (``HEAD /api/hubs/{hub}/connections/{connectionId}``, 200 or
404). The app asks those itself, and sends a new connection's outputs itself so that one failing
send cannot hold back the others (docs/chat-app.md, "The service's REST API from the app").
This module turns a question or an output item into a :class:`Request`; ``function_app.py``
signs and sends it.

Credentials come from the same setting as the bindings': a connection string with ``AccessKey``
(HS256 token, :mod:`chat.tokens`), or the identity-based form (``__serviceUri``, or ``AuthType``
without a key), for which the app asks the App Service managed identity endpoint for a token for
``https://signalr.azure.com``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from .outputs import Item, encode_item

__all__ = [
    "API_VERSION",
    "IDENTITY_RESOURCE",
    "Endpoint",
    "Request",
    "close_connection_request",
    "connection_exists_request",
    "endpoint_from",
    "endpoint_setting_names",
    "identity_token_request",
    "parse_connection_string",
    "parse_identity_token",
    "send_request",
    "user_exists_request",
]

API_VERSION = "2022-06-01"
IDENTITY_RESOURCE = "https://signalr.azure.com"


def parse_connection_string(text: str | None) -> dict[str, str]:
    """``key=value;...`` with keys lower-cased and values trimmed; malformed parts are skipped."""
    fields: dict[str, str] = {}
    for segment in (text or "").split(";"):
        key, sep, value = segment.partition("=")
        if sep and key.strip():
            fields[key.strip().lower()] = value.strip()
    return fields


@dataclass(frozen=True, kw_only=True)
class Endpoint:
    url: str
    """Scheme, host and port of the REST API, no trailing slash."""
    access_key: str | None = None
    """None: authenticate with the managed identity."""
    client_id: str | None = None
    """A user-assigned identity's client id, for the identity-based form."""


def endpoint_setting_names(name: str) -> tuple[str, ...]:
    """Every setting :func:`endpoint_from` reads for the connection setting ``name``."""
    return (name, f"{name}__serviceUri", f"{name}__clientId")


def endpoint_from(settings: Mapping[str, str], name: str) -> Endpoint | None:
    """The service behind the connection setting ``name`` (None when it is not set)."""
    fields = parse_connection_string(settings.get(name))
    base = fields.get("serverendpoint") or fields.get("endpoint")
    if base:
        parts = urlsplit(base.rstrip("/"))
        if not parts.scheme or not parts.hostname:
            return None
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        port = fields.get("port") if not fields.get("serverendpoint") else None
        port = port or (str(parts.port) if parts.port else None)
        url = f"{parts.scheme}://{host}" + (f":{port}" if port else "")
        return Endpoint(url=url, access_key=fields.get("accesskey") or None,
                        client_id=fields.get("clientid") or None)
    service_uri = settings.get(f"{name}__serviceUri")
    if service_uri:
        return Endpoint(url=service_uri.rstrip("/"), client_id=settings.get(f"{name}__clientId"))
    return None


@dataclass(frozen=True, kw_only=True)
class Request:
    method: str
    url: str
    """Path segments already percent-encoded: send it as is (the token names it)."""
    audience: str
    body: bytes | None = None


def _seg(value: str) -> str:
    return quote(value, safe="")


def _request(endpoint: Endpoint, method: str, path: str, body: Item | None = None,
             query: Mapping[str, str] | None = None) -> Request:
    audience = f"{endpoint.url}{path}"
    url = f"{audience}?{urlencode({**(query or {}), 'api-version': API_VERSION})}"
    payload = None if body is None else encode_item(body).encode()
    return Request(method=method, url=url, audience=audience, body=payload)


def _hub(hub: str) -> str:
    return f"/api/hubs/{_seg(hub.lower())}"


def connection_exists_request(endpoint: Endpoint, hub: str, connection_id: str) -> Request:
    return _request(endpoint, "HEAD", f"{_hub(hub)}/connections/{_seg(connection_id)}")


def user_exists_request(endpoint: Endpoint, hub: str, user: str) -> Request:
    """200 while the user has at least one connection, else 404."""
    return _request(endpoint, "HEAD", f"{_hub(hub)}/users/{_seg(user)}")


def close_connection_request(endpoint: Endpoint, hub: str, connection_id: str,
                             reason: str) -> Request:
    return _request(endpoint, "DELETE", f"{_hub(hub)}/connections/{_seg(connection_id)}",
                    query={"reason": reason})


def send_request(endpoint: Endpoint, hub: str, item: Mapping[str, Any]) -> Request:
    """The REST call an output item (chat.outputs) stands for."""
    base = _hub(hub)
    if "action" in item:
        method = "PUT" if item["action"] == "add" else "DELETE"
        group = _seg(str(item["groupName"]))
        if item.get("connectionId"):
            path = f"{base}/groups/{group}/connections/{_seg(str(item['connectionId']))}"
        else:
            path = f"{base}/users/{_seg(str(item['userId']))}/groups/{group}"
        return _request(endpoint, method, path)
    body = {"target": item["target"], "arguments": list(item.get("arguments", []))}
    for key, segment in (("connectionId", "connections"), ("userId", "users"),
                         ("groupName", "groups")):
        if item.get(key):
            return _request(endpoint, "POST", f"{base}/{segment}/{_seg(str(item[key]))}/:send",
                            body)
    return _request(endpoint, "POST", f"{base}/:send", body)


def identity_token_request(identity_endpoint: str, identity_header: str,
                           client_id: str | None = None) -> tuple[str, dict[str, str]]:
    """URL and headers of the App Service managed identity token request (api 2019-08-01)."""
    query = {"resource": IDENTITY_RESOURCE, "api-version": "2019-08-01"}
    if client_id:
        query["client_id"] = client_id
    return f"{identity_endpoint}?{urlencode(query)}", {"X-IDENTITY-HEADER": identity_header}


def parse_identity_token(body: Any) -> tuple[str, float]:
    """``(access_token, expires_on)`` from the endpoint's JSON answer; ValueError otherwise."""
    if not isinstance(body, Mapping) or not isinstance(body.get("access_token"), str):
        raise ValueError("the managed identity endpoint answered without an access_token")
    try:
        expires = float(body.get("expires_on", 0))
    except (TypeError, ValueError):
        raise ValueError("the managed identity endpoint answered a bad expires_on") from None
    return body["access_token"], expires
