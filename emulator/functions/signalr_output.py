"""``signalRConnectionInfo`` input and ``signalR`` output, pure.

docs/functions-host.md, "signalRConnectionInfo input" and "signalR output".

The output value becomes a list of :class:`RestCall` (method, URL, audience, body) for the
service's ``2022-06-01`` REST API; the shell signs each with a token for its audience and sends
them in order.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import jwt

from ..contracts import (
    ConnectionString,
    client_audience,
    issue_token,
    parse_connection_string,
)
from ..errors import InvalidConnectionString, OutputBindingError

__all__ = [
    "API_VERSION",
    "DEFAULT_CONNECTION_SETTING",
    "RestCall",
    "build_connection_info",
    "build_rest_calls",
    "connection_setting_name",
    "connection_string_from",
    "custom_claims",
    "parse_output_value",
]

API_VERSION = "2022-06-01"
DEFAULT_CONNECTION_SETTING = "AzureSignalRConnectionString"
_CONVERT_ERROR = "Unable to convert JObject to valid output binding type, check parameters."
_compact = json.JSONEncoder(separators=(",", ":")).encode  # made once, not per call


@dataclass(frozen=True)
class RestCall:
    """One REST request to the service; ``audience`` is the ``aud`` its bearer token needs."""

    method: str
    url: str
    audience: str
    body: bytes | None = None
    description: str = ""


def connection_setting_name(binding: Any) -> str:
    """``connectionStringSetting``, else ``connection``, else the default.

    docs/functions-host.md, "signalRConnectionInfo input".
    """
    return str(binding.get("connectionStringSetting") or binding.get("connection")
               or DEFAULT_CONNECTION_SETTING)


def connection_string_from(settings: Mapping[str, str], setting: str) -> ConnectionString:
    """Parse the connection string named by ``setting``; errors name the setting, not its value."""
    text = settings.get(setting) or settings.get(f"ConnectionStrings:{setting}")
    if not text:
        raise OutputBindingError(f"app setting '{setting}' is not set; it must hold the SignalR "
                                 f"Service connection string")
    try:
        parsed = parse_connection_string(text)
    except InvalidConnectionString as exc:
        raise OutputBindingError(f"app setting '{setting}' is not a valid SignalR connection "
                                 f"string: {exc}") from None
    if not parsed.access_key:
        raise OutputBindingError(f"app setting '{setting}' has no AccessKey; identity-based "
                                 f"connections are not supported by the local host")
    return parsed


def custom_claims(id_token: str | None, claim_types: Sequence[str] | None) -> dict[str, Any]:
    """Claims of ``idToken`` (decoded WITHOUT validation) whose type is in ``claimTypeList``."""
    if not id_token or not claim_types:
        return {}
    try:
        claims = jwt.decode(id_token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise OutputBindingError(f"idToken is not a JWT: {exc}") from None
    wanted = {str(t) for t in claim_types}
    return {k: v for k, v in claims.items() if k in wanted}


def build_connection_info(conn: ConnectionString, hub: str, *, now: float,
                          user_id: str | None = None,
                          claims: Mapping[str, Any] | None = None) -> str:
    """The input value: indented JSON ``{"url", "accessToken"}``, as the extension writes it.

    docs/functions-host.md, "signalRConnectionInfo input".
    """
    assert conn.access_key is not None
    token = issue_token(audience=client_audience(conn.audience_base, hub), key=conn.access_key,
                        now=now, user_id=user_id or None, claims=claims)
    info = {"url": f"{conn.client_base}/client/?hub={hub.lower()}", "accessToken": token}
    return json.dumps(info, indent=2)


def parse_output_value(value: Any) -> list[dict[str, Any]]:
    """An ``Out`` value (JSON text, bytes, dict or list) -> list of objects, keys lower-cased."""
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("utf-8", "replace")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise OutputBindingError("Value cannot be null. (Parameter 'item'): the signalR "
                                     "output was set to a string that is not JSON; set "
                                     "json.dumps({...})") from None
    items = value if isinstance(value, list) else [value]
    result: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, dict):
            raise OutputBindingError(f"{_CONVERT_ERROR} (each item must be a JSON object, got "
                                     f"{type(item).__name__})")
        result.append({str(k).lower(): v for k, v in item.items()})
    return result


def _seg(value: Any) -> str:
    return quote(str(value), safe="")


def _call(conn: ConnectionString, method: str, path: str, body: Any = None,
          description: str = "") -> RestCall:
    suffix = f"{path}?api-version={API_VERSION}"
    url = f"{conn.server_base}{suffix}"
    audience = f"{conn.audience_base}{urlsplit(conn.server_base).path.rstrip('/')}{suffix}"
    payload = None if body is None else _compact(body).encode()
    return RestCall(method=method, url=url, audience=audience, body=payload,
                    description=description)


def _message_call(conn: ConnectionString, hub: str, item: dict[str, Any]) -> RestCall:
    arguments = item["arguments"]
    if not isinstance(arguments, list):
        raise OutputBindingError(f"{_CONVERT_ERROR} ('arguments' must be an array)")
    body = {"Target": str(item["target"]), "Arguments": arguments}
    base = f"/api/hubs/{_seg(hub.lower())}"
    for key, path, what in (("connectionid", "connections", "connection"),
                            ("userid", "users", "user"), ("groupname", "groups", "group")):
        if item.get(key):
            return _call(conn, "POST", f"{base}/{path}/{_seg(item[key])}/:send", body,
                         f"send '{item['target']}' to {what}")
    return _call(conn, "POST", f"{base}/:send", body, f"broadcast '{item['target']}'")


def _group_call(conn: ConnectionString, hub: str, item: dict[str, Any]) -> RestCall | None:
    action = str(item.get("action") or "").lower()
    if action not in ("add", "remove", "removeall"):
        raise OutputBindingError(f"{_CONVERT_ERROR} (action must be add, remove or removeAll, "
                                 f"got {item.get('action')!r})")
    group, connection, user = item.get("groupname"), item.get("connectionid"), item.get("userid")
    base = f"/api/hubs/{_seg(hub.lower())}"
    if not connection and not user:
        raise OutputBindingError("ConnectionId and UserId cannot be null or empty together")
    if action != "removeall" and not group:
        raise OutputBindingError(f"groupName is required for action '{item.get('action')}'")
    if connection:
        if action == "removeall":
            return None  # ignored for a connection, as the extension does (SignalRAsyncCollector)
        method = "PUT" if action == "add" else "DELETE"
        return _call(conn, method, f"{base}/groups/{_seg(group)}/connections/{_seg(connection)}",
                     description=f"{action} connection to group")
    if action == "removeall":
        return _call(conn, "DELETE", f"{base}/users/{_seg(user)}/groups",
                     description="remove user from all groups")
    method = "PUT" if action == "add" else "DELETE"
    return _call(conn, method, f"{base}/users/{_seg(user)}/groups/{_seg(group)}",
                 description=f"{action} user to group")


def build_rest_calls(conn: ConnectionString, hub: str, value: Any) -> list[RestCall]:
    """Classify each item as a message (``target`` + ``arguments``) or a group action."""
    calls: list[RestCall] = []
    for item in parse_output_value(value):
        if item.get("target") is not None and "arguments" in item:
            calls.append(_message_call(conn, hub, item))
        elif "action" in item:
            call = _group_call(conn, hub, item)
            if call is not None:
                calls.append(call)
        else:
            raise OutputBindingError(f"{_CONVERT_ERROR} (a message needs 'target' and "
                                     f"'arguments'; a group action needs 'action')")
    return calls
