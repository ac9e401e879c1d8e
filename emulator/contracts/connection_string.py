"""Azure SignalR connection strings (docs/serverless-contracts.md, "Connection strings").

``Endpoint=https://x.service.signalr.net;AccessKey=...;Version=1.0;`` — keys are case-insensitive,
a value is split on the first ``=``, both sides trimmed, empty segments ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from ..errors import InvalidConnectionString

__all__ = ["ConnectionString", "InvalidConnectionString", "parse_connection_string"]

_VERSION = re.compile(r"^1\.\d+(?:[\w\-.]+)?$")
_KNOWN_KEYS = {
    "endpoint", "accesskey", "port", "version", "clientendpoint", "serverendpoint",
    "authtype", "clientid", "tenantid", "clientsecret", "clientcert",
}


@dataclass(frozen=True)
class ConnectionString:
    endpoint: str
    """The service URL with ``Port`` applied and no trailing slash."""
    access_key: str | None = None
    version: str | None = None
    client_endpoint: str | None = None
    server_endpoint: str | None = None
    auth_type: str | None = None

    @property
    def client_base(self) -> str:
        """Where clients connect: ``ClientEndpoint`` if set, else the endpoint."""
        return self.client_endpoint or self.endpoint

    @property
    def server_base(self) -> str:
        """Where the REST API lives: ``ServerEndpoint`` if set, else the endpoint."""
        return self.server_endpoint or self.endpoint

    @property
    def audience_base(self) -> str:
        """``scheme://host`` of the endpoint: the SDK leaves the port out of token audiences.

        docs/serverless-contracts.md, "Client tokens".
        """
        parts = urlsplit(self.endpoint)
        return f"{parts.scheme}://{parts.hostname}"

    @property
    def port(self) -> int:
        parts = urlsplit(self.endpoint)
        return parts.port or (443 if parts.scheme == "https" else 80)

    @property
    def host(self) -> str:
        return urlsplit(self.endpoint).hostname or "localhost"


def _check_url(key: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidConnectionString(f"{key} must be an absolute http or https URL, got {value!r}")
    return value.rstrip("/")


def parse_connection_string(text: str) -> ConnectionString:
    """Parse a connection string, or raise :class:`InvalidConnectionString` naming the problem."""
    pairs: dict[str, str] = {}
    for segment in text.split(";"):
        if not segment.strip():
            continue
        key, sep, value = segment.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise InvalidConnectionString(
                f"segment {segment.strip()!r} is not of the form key=value"
            )
        lowered = key.lower()
        if lowered not in _KNOWN_KEYS:
            raise InvalidConnectionString(f"unknown key {key!r}")
        if lowered in pairs:
            raise InvalidConnectionString(f"duplicate key {key!r}")
        pairs[lowered] = value
    if len(pairs) < 2:
        raise InvalidConnectionString("expected at least Endpoint and AccessKey")
    if "endpoint" not in pairs:
        raise InvalidConnectionString("Endpoint is required")
    endpoint = _check_url("Endpoint", pairs["endpoint"])
    if "port" in pairs:
        port_text = pairs["port"]
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise InvalidConnectionString(
                f"Port must be an integer from 1 to 65535, got {port_text!r}"
            )
        parts = urlsplit(endpoint)
        netloc = f"{parts.hostname}:{int(port_text)}"
        endpoint = urlunsplit((parts.scheme, netloc, parts.path, "", "")).rstrip("/")
    version = pairs.get("version")
    if version is not None and not _VERSION.match(version):
        raise InvalidConnectionString(f"Version must be 1.x, got {version!r}")
    auth_type = pairs.get("authtype")
    access_key = pairs.get("accesskey")
    if auth_type is None and not access_key:
        raise InvalidConnectionString("AccessKey is required when AuthType is not set")
    return ConnectionString(
        endpoint=endpoint,
        access_key=access_key or None,
        version=version,
        client_endpoint=_check_url("ClientEndpoint", pairs["clientendpoint"])
        if pairs.get("clientendpoint") else None,
        server_endpoint=_check_url("ServerEndpoint", pairs["serverendpoint"])
        if pairs.get("serverendpoint") else None,
        auth_type=auth_type,
    )
