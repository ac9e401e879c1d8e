"""Binding expressions, pure (docs/functions-host.md, "Binding expressions").

``%Name%`` is an app setting; ``{a.b-c}`` walks the trigger's binding data. An HTTP trigger's
binding data, in the order Azure fills it (a later source replaces an earlier name, ignoring case):
the top-level properties of a JSON object body except arrays and nulls, each query parameter
except ``code``, each route parameter, then ``headers`` (names case-insensitive) and ``query``
(case-sensitive keys, last value per key), each only if no earlier source took that name. For
SignalR triggers each ``parameterNames`` entry is binding data. A missing value is an error,
never an empty string: on Azure the invocation fails (WebJobs ``BindingTemplateToken.Evaluate``).

Values become text the way the WebJobs SDK and Json.NET write them: a body's top-level scalars
are stored as invariant-culture strings (``True``/``False``, .NET's shortest round-trip doubles,
ISO date-times rewritten as ``MM/dd/yyyy HH:mm:ss``); a null inside an object gives an empty
string; an object or an array gives an empty string, not JSON (``BindingDataPathHelper``
converts only primitive JSON values). A body nested deeper than 64 levels gives no fields (Json.NET
13's reader limit). JSON objects are looked up by exact name first, then ignoring case.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from ..errors import BindingExpressionError

__all__ = [
    "binding_data_for_http",
    "resolve",
    "resolve_settings",
]

_SETTING = re.compile(r"%([^%{}]+)%")
_EXPRESSION = re.compile(r"\{([A-Za-z0-9_.\-$]+)\}")
# The ISO 8601 form Json.NET's reader turns into a DateTime (DateTimeParser): seconds required,
# at most 7 fraction digits, then Z, +hh, +hhmm or +hh:mm, or no zone.
_ISO_DATE_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,7}))?"
    r"(?:[Zz]|([+-])([0-9]{2})(?::?([0-9]{2}))?)?",
    re.ASCII,
)
_DOUBLE_DIGITS = 17  # .NET: "G" stays in fixed notation up to this many integer digits
_MAX_DEPTH = 64  # Json.NET 13's JsonReader.MaxDepth: deeper nesting fails the whole parse


class _CaseInsensitive(dict[str, Any]):
    """A plain dict looked up case-insensitively (header names, top-level binding data)."""

    def __init__(self, items: Mapping[str, Any]) -> None:
        super().__init__({k.lower(): v for k, v in items.items()})

    def lookup(self, key: str) -> tuple[bool, Any]:
        return (key.lower() in self, self.get(key.lower()))


class _Exact(dict[str, Any]):
    """A dict looked up by exact key: the HTTP ``query`` collection (a default .NET Dictionary)."""


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


def _json_lookup(obj: Mapping[Any, Any], key: str) -> tuple[bool, Any]:
    """Json.NET's ``JObject.TryGetValue(name, OrdinalIgnoreCase)``: exact name, else any case."""
    if key in obj:
        return True, obj[key]
    folded = key.lower()
    for name, value in obj.items():
        if isinstance(name, str) and name.lower() == folded:
            return True, value
    return False, None


def _walk(root: Mapping[str, Any], expression: str) -> Any:
    parts = expression.split(".")
    value: Any = root
    for index, part in enumerate(parts):
        found, nxt = False, None
        if isinstance(value, _CaseInsensitive):
            found, nxt = value.lookup(part)
        elif isinstance(value, _Exact):
            found, nxt = part in value, value.get(part)
        elif isinstance(value, Mapping):
            found, nxt = _json_lookup(value, part)
        if not found:
            where = ".".join(parts[: index + 1])
            raise BindingExpressionError(
                f"Error while accessing '{where}': property doesn't exist."
            )
        value = nxt
    return value


def _dotnet_double(value: float) -> str:
    """``double.ToString(CultureInfo.InvariantCulture)`` as on .NET Core 3.0 and later."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    if value == 0:
        return sign + "0"
    # Python's repr and .NET both give the shortest digits that read back as the same double.
    mantissa, _, power = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    significant = (whole + fraction).lstrip("0")
    digits = significant.rstrip("0")
    exponent = int(power or "0") - len(fraction) + len(significant) - len(digits)
    point = len(digits) + exponent  # digits before the decimal point
    if point > max(len(digits), _DOUBLE_DIGITS) or point < -3:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        shift = point - 1
        return f"{sign}{mantissa}E{'-' if shift < 0 else '+'}{abs(shift):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    whole, fraction = digits[:point].ljust(point, "0"), digits[point:]
    return sign + whole + ("." + fraction if fraction else "")


def _json_net_date_text(text: str) -> str | None:
    """A string Json.NET reads as a DateTime, written back as Convert.ToString does with the
    invariant culture (``MM/dd/yyyy HH:mm:ss``, fraction dropped); ``None`` if not such a date.
    An offset is converted to the host's local time, taken here as UTC (Azure's default)."""
    match = _ISO_DATE_TIME.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction, zone_sign, zone_hours, zone_minutes = match.groups()[6:]
    if hour > 24 or minute > 59 or second > 59 or year < 1:
        return None
    if hour == 24 and (minute or second or int(fraction or "0")):
        return None
    try:
        moment = datetime(year, month, day, hour % 24, minute, second)
        moment += timedelta(days=hour // 24)
        if zone_sign:
            offset = timedelta(hours=int(zone_hours), minutes=int(zone_minutes or "0"))
            moment = moment - offset if zone_sign == "+" else moment + offset
    except (ValueError, OverflowError):
        return None
    return (f"{moment.month:02d}/{moment.day:02d}/{moment.year:04d} "
            f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}")


def _too_deep(value: Any) -> bool:
    """More than ``_MAX_DEPTH`` nested objects and arrays (counted without recursion)."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item
        if depth > _MAX_DEPTH:
            return True
        pending.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return False


def _json_object(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A body's JSON object as Json.NET holds it: strings in date-time form are dates."""
    out: dict[str, Any] = {}
    for key, value in obj.items():
        if isinstance(value, str):
            value = _json_net_date_text(value) or value
        elif isinstance(value, Mapping):
            value = _json_object(value)
        out[key] = value
    return out


def _as_text(value: Any) -> str:
    """``BindingDataPathHelper.ConvertParameterValueToString`` for JSON-shaped values."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "True" if value else "False"  # .NET's bool.ToString()
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _dotnet_double(value)
    if isinstance(value, (Mapping, list, tuple)):
        return ""  # a JObject or JArray converts to null, which the template appends as nothing
    return str(value)


def resolve(template: str, data: Mapping[str, Any], settings: Mapping[str, str]) -> str:
    """Resolve ``%Setting%`` then ``{expression}`` against ``data`` (see the module docstring)."""
    text = resolve_settings(template, settings)
    root = data if isinstance(data, _CaseInsensitive) else _CaseInsensitive(data)
    return _EXPRESSION.sub(lambda m: _as_text(_walk(root, m.group(1))), text)


def _body_fields(body: bytes, content_type: str) -> dict[str, Any]:
    """Json.NET's reading of a JSON object body: top-level properties but arrays and nulls;
    other scalars become strings at once (``(string)JToken``), objects stay objects."""
    if not body or not ("json" in content_type.lower() or body.lstrip()[:1] == b"{"):
        return {}
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return {}
    if not isinstance(parsed, dict) or _too_deep(parsed):
        return {}
    fields: dict[str, Any] = {}
    for key, value in parsed.items():
        if value is None or isinstance(value, list):
            continue
        if isinstance(value, dict):
            fields[key] = _json_object(value)
        elif isinstance(value, str):
            fields[key] = _json_net_date_text(value) or value
        else:
            fields[key] = _as_text(value)
    return fields


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
    for source in (_body_fields(body, content_type),
                   {k: v for k, v in query.items() if k.lower() != "code"},
                   route_params):
        data.update({k.lower(): v for k, v in source.items()})
    # Like the WebJobs HTTP extension: the collections only fill names still free.
    data.setdefault("headers", _CaseInsensitive(headers))
    data.setdefault("query", _Exact(query))
    return _CaseInsensitive(data)
