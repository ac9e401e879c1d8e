"""Binding expressions, pure (docs/functions-host.md, "Binding expressions").

``%Name%`` is an app setting; ``{a.b-c}`` walks the trigger's binding data: ``headers``
(names case-insensitive), ``query`` (case-sensitive keys, last value per key), each route
parameter, each query parameter at top level (except ``code``), top-level non-array fields of a
JSON body, and for SignalR triggers each ``parameterNames`` entry. A missing value is an error,
never an empty string: on Azure the invocation fails (WebJobs ``BindingTemplateToken.Evaluate``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ..errors import BindingExpressionError

__all__ = [
    "binding_data_for_http",
    "resolve",
    "resolve_settings",
]

_SETTING = re.compile(r"%([^%{}]+)%")
_EXPRESSION = re.compile(r"\{([A-Za-z0-9_.\-$]+)\}")


class _CaseInsensitive(dict[str, Any]):
    """A plain dict looked up case-insensitively (header names, top-level binding data)."""

    def __init__(self, items: Mapping[str, Any]) -> None:
        super().__init__({k.lower(): v for k, v in items.items()})

    def lookup(self, key: str) -> tuple[bool, Any]:
        return (key.lower() in self, self.get(key.lower()))


def resolve_settings(template: str, settings: Mapping[str, str]) -> str:
    """Replace each ``%Name%`` with the app setting; an unknown setting is an error."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in settings:
            raise BindingExpressionError(
                f"'%{name}%' does not resolve to a value: app setting '{name}' is not set "
                f"(add it to local.settings.json Values or the environment)"
            )
        return settings[name]

    return _SETTING.sub(replace, template)


def _walk(root: Mapping[str, Any], expression: str) -> Any:
    parts = expression.split(".")
    value: Any = root
    for index, part in enumerate(parts):
        found, nxt = False, None
        if isinstance(value, _CaseInsensitive):
            found, nxt = value.lookup(part)
        elif isinstance(value, Mapping):
            found, nxt = part in value, value.get(part)
        if not found:
            where = ".".join(parts[: index + 1])
            raise BindingExpressionError(
                f"Error while accessing '{where}': property doesn't exist."
            )
        value = nxt
    return value


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "True" if value else "False"  # .NET's bool.ToString()
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value)


def resolve(template: str, data: Mapping[str, Any], settings: Mapping[str, str]) -> str:
    """Resolve ``%Setting%`` then ``{expression}`` against ``data`` (see the module docstring)."""
    text = resolve_settings(template, settings)
    root = data if isinstance(data, _CaseInsensitive) else _CaseInsensitive(data)
    return _EXPRESSION.sub(lambda m: _as_text(_walk(root, m.group(1))), text)


def binding_data_for_http(
    *,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    route_params: Mapping[str, str],
    body: bytes,
    content_type: str = "",
) -> dict[str, Any]:
    """The binding data of an HTTP trigger (docs/functions-host.md, "Binding expressions")."""
    data: dict[str, Any] = {}
    if body and ("json" in content_type.lower() or body.lstrip()[:1] == b"{"):
        try:
            parsed = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            parsed = None
        if isinstance(parsed, dict):
            data.update({k: v for k, v in parsed.items() if not isinstance(v, list)})
    data.update({k: v for k, v in query.items() if k.lower() != "code"})
    data.update(route_params)
    data["headers"] = _CaseInsensitive(headers)
    data["query"] = dict(query)
    return data
