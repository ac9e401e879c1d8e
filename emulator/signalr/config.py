"""Configuration of the local SignalR Service: one frozen dataclass, loaded once.

The upstream rules use the ``settings.json`` shape of Microsoft's emulator
(docs/serverless-contracts.md, "Settings" and "Microsoft's emulator")::

    {"UpstreamSettings": {"Templates": [
        {"UrlTemplate": "http://localhost:7071/runtime/webhooks/signalr",
         "EventPattern": "*", "HubPattern": "*", "CategoryPattern": "*"}]}}

Names are read case-insensitively, as .NET configuration binding does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import ConfigError
from ..origins import OriginPolicy
from .protocol.connection import SessionLimits
from .protocol.upstream import UpstreamTemplate

__all__ = [
    "DEFAULT_ACCESS_KEY",
    "ConfigError",
    "ServiceConfig",
    "UpstreamTemplate",
    "load_settings",
    "parse_settings",
]

DEFAULT_ACCESS_KEY = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH"
"""The fixed development key of Microsoft's emulator (docs/serverless-contracts.md, "Microsoft's
emulator"): public, so fine on loopback only."""


@dataclass(frozen=True, kw_only=True)
class ServiceConfig:
    access_keys: tuple[str, ...] = (DEFAULT_ACCESS_KEY,)
    """Keys that sign tokens and upstream signatures; the first is the primary."""
    upstream: tuple[UpstreamTemplate, ...] = ()
    """Upstream rules in order; the first match wins. Empty: client messages are ignored."""
    keep_alive_interval: float = 15.0
    """Seconds of outbound silence before the service pings a client (docs/client-protocol.md,
    "Keep-alive and timeouts")."""
    client_timeout: float = 30.0
    """Seconds without any client message (pings included) before the client is dropped."""
    handshake_timeout: float = 15.0
    """Seconds a client has to send its handshake after the transport opens."""
    upstream_timeout: float = 30.0
    """Seconds an upstream request may take; then invoke gets an error completion.

    Microsoft's emulator uses HttpClient's default of 100 s; the real service's value is not
    documented (docs/serverless-contracts.md, "Not confirmed, and where sources disagree"). 30 s
    matches the client's server timeout.
    """
    max_message_size: int = 1024 * 1024
    """Largest hub message a client may send, in bytes (docs/serverless-contracts.md, "Limits")."""
    send_queue_size: int = 1000
    """Messages waiting for one client; past this the client is dropped, never the others."""
    negotiate_ttl: float = 5.0
    """Seconds between negotiate and connect; a later connect gets 404
    (docs/serverless-contracts.md, "Client endpoints")."""
    body_timeout: float = 30.0
    """Seconds a client has to send the body of a request (a send, a REST call)."""
    long_poll_timeout: float = 90.0
    """Seconds a long-poll request is held before an empty 200 (ASP.NET default)."""
    reconnect_grace: float = 15.0
    """Seconds a stateful-reconnect connection waits for its client to reattach."""
    allowed_origins: tuple[str, ...] = ()
    """Origins whose pages may use the service (``*``: any). Clients that are not browsers
    send no ``Origin`` and are not affected (see :mod:`emulator.origins`)."""
    host: str = "localhost"
    port: int = 8888

    def __post_init__(self) -> None:
        if not self.access_keys or not all(self.access_keys):
            raise ConfigError("access_keys: at least one non-empty access key is required")

    @property
    def primary_key(self) -> str:
        return self.access_keys[0]

    @cached_property
    def limits(self) -> SessionLimits:
        """The timers and bounds every connection's core applies (one shared instance)."""
        return SessionLimits(
            max_message_size=self.max_message_size, max_queued=self.send_queue_size,
            handshake_timeout=self.handshake_timeout,
            keep_alive_interval=self.keep_alive_interval, client_timeout=self.client_timeout,
            reconnect_grace=self.reconnect_grace,
        )

    @cached_property
    def origin_policy(self) -> OriginPolicy:
        return OriginPolicy(self.allowed_origins)

    def limits_with(self, *, handshake_timeout: float) -> SessionLimits:
        """The limits of one connection whose token asks for its own handshake timeout."""
        return replace(self.limits, handshake_timeout=handshake_timeout)


def _lower_keys(obj: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k).lower(): v for k, v in obj.items()}


def _pattern(item: Mapping[str, Any], name: str, where: str) -> str | None:
    if name.lower() not in item:
        return "*"
    value = item[name.lower()]
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{where}: {name} must be a string, got {value!r}")
    return value


def parse_settings(obj: Any, *, source: str = "settings") -> tuple[UpstreamTemplate, ...]:
    """The templates of a parsed ``settings.json``; ConfigError names what is wrong."""
    if not isinstance(obj, Mapping):
        raise ConfigError(f"{source}: the top level must be a JSON object")
    upstream = _lower_keys(obj).get("upstreamsettings")
    if upstream is None:
        return ()
    if not isinstance(upstream, Mapping):
        raise ConfigError(f"{source}: UpstreamSettings must be an object")
    items = _lower_keys(upstream).get("templates") or []
    if not isinstance(items, list):
        raise ConfigError(f"{source}: UpstreamSettings.Templates must be an array")
    templates: list[UpstreamTemplate] = []
    for index, raw in enumerate(items):
        where = f"{source}: UpstreamSettings.Templates[{index}]"
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{where} must be an object")
        item = _lower_keys(raw)
        url = item.get("urltemplate")
        if not isinstance(url, str) or not url:
            raise ConfigError(f"{where}.UrlTemplate is required")
        parts = urlsplit(url.replace("{", "").replace("}", ""))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"{where}.UrlTemplate must be an absolute http(s) URL, got {url!r}")
        templates.append(
            UpstreamTemplate(
                url_template=url,
                hub_pattern=_pattern(item, "HubPattern", where),
                category_pattern=_pattern(item, "CategoryPattern", where),
                event_pattern=_pattern(item, "EventPattern", where),
            )
        )
    return tuple(templates)


def load_settings(path: str | Path) -> tuple[UpstreamTemplate, ...]:
    """Read a ``settings.json`` file (or ``<folder>/settings.json``) into upstream templates."""
    target = Path(path)
    if target.is_dir():
        target = target / "settings.json"
    try:
        text = target.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"{target}: cannot read settings file ({exc.strerror})") from None
    try:
        obj = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"{target}: not valid JSON ({exc})") from None
    return parse_settings(obj, source=str(target))
