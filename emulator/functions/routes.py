"""ASP.NET-style route templates for HTTP triggers, pure (docs/functions-host.md, "HTTP trigger").

Supports literals (matched case-insensitively), ``{name}``, constraints ``{id:int}`` (int, long,
bool, guid, alpha, double, float, decimal, datetime, min(n), max(n), range(a,b), minlength(n),
maxlength(n), length(n), regex(...)), defaults ``{id=1}`` / ``{id:int=1}``, optional ``{name?}``
and catch-all ``{*rest}`` / ``{**rest}`` as the last segment. Matching follows ASP.NET Core's
RoutePatternMatcher: one trailing slash is ignored and any other empty segment fails, except that a
catch-all takes the raw rest of the path from its first (non-empty) segment, trailing slash
included; its constraints check that whole rest, and fail when it is empty and has no default.

Order: the Functions host does NOT rank templates. It adds one ASP.NET ``Route`` per function to a
``RouteCollection`` (Azure/azure-webjobs-sdk-extensions WebJobsRouteBuilder.Build) in the order of
the function list, which FunctionMetadataManager sorts by name with OrdinalIgnoreCase, and the
first route that matches wins. :func:`host_order_key` gives that order. ASP.NET's own template
precedence (RoutePrecedence) is not applied.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ..errors import IndexingError

__all__ = ["Route", "compile_route", "host_order_key"]

_PARAM = re.compile(r"^\{(\*{1,2})?([A-Za-z_][A-Za-z0-9_]*)([:=][^{}?]*)?(\?)?\}$")
_CONSTRAINT = re.compile(r":([a-z]+)(?:\(((?:[^()]|\([^()]*\))*)\))?", re.IGNORECASE)


def _is_number(kind: type) -> Callable[[str], bool]:
    def check(value: str) -> bool:
        try:
            kind(value)
        except ValueError:
            return False
        return True
    return check


def _is_datetime(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


_GUID = re.compile(r"^[{(]?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}[})]?$",
                   re.IGNORECASE)


def _is_guid(value: str) -> bool:
    return bool(_GUID.match(value))


def _constraint(name: str, arg: str | None, template: str) -> Callable[[str], bool]:
    name = name.lower()
    simple: dict[str, Callable[[str], bool]] = {
        "int": lambda v: bool(re.fullmatch(r"-?\d+", v)) and -(2**31) <= int(v) < 2**31,
        "long": lambda v: bool(re.fullmatch(r"-?\d+", v)) and -(2**63) <= int(v) < 2**63,
        "bool": lambda v: v.lower() in ("true", "false"),
        "guid": _is_guid,
        "alpha": lambda v: bool(re.fullmatch(r"[A-Za-z]+", v)),
        "double": _is_number(float), "float": _is_number(float), "decimal": _is_number(float),
        "datetime": _is_datetime,
    }
    if name in simple and arg is None:
        return simple[name]
    try:
        if name == "regex" and arg is not None:
            pattern = re.compile(arg, re.IGNORECASE)
            return lambda v: bool(pattern.search(v))
        numbers = [int(x) for x in (arg or "").split(",")] if arg else []
    except (ValueError, re.error) as exc:
        raise IndexingError(f"route '{template}': bad constraint argument {arg!r}") from exc
    checks: dict[str, Callable[[str], bool]] = {}
    if len(numbers) == 1:
        n = numbers[0]
        checks = {
            "min": lambda v: bool(re.fullmatch(r"-?\d+", v)) and int(v) >= n,
            "max": lambda v: bool(re.fullmatch(r"-?\d+", v)) and int(v) <= n,
            "minlength": lambda v: len(v) >= n,
            "maxlength": lambda v: len(v) <= n,
            "length": lambda v: len(v) == n,
        }
    elif len(numbers) == 2:
        lo, hi = numbers
        checks = {
            "range": lambda v: bool(re.fullmatch(r"-?\d+", v)) and lo <= int(v) <= hi,
            "length": lambda v: lo <= len(v) <= hi,
        }
    if name not in checks:
        raise IndexingError(f"route '{template}': unknown or malformed constraint ':{name}"
                            f"{'(' + arg + ')' if arg else ''}'")
    return checks[name]


@dataclass(frozen=True)
class _Segment:
    literal: str | None
    name: str | None = None
    checks: tuple[Callable[[str], bool], ...] = ()
    optional: bool = False
    catch_all: bool = False
    default: str | None = None

    def accepts(self, value: str) -> bool:
        return all(check(value) for check in self.checks)


_ASCII_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)


def host_order_key(function_name: str) -> str:
    """Sort key putting functions in the order the host tries their routes (first match wins).

    The host sorts function names with .NET's OrdinalIgnoreCase, which upper-cases ASCII letters and
    then compares code units, so ``_`` sorts after the letters (``getx`` before ``get_x``).
    """
    return function_name.translate(_ASCII_UPPER)


@dataclass(frozen=True)
class Route:
    """A compiled template; :meth:`match` returns the route values or None."""

    template: str
    segments: tuple[_Segment, ...]

    def match(self, path: str) -> dict[str, str] | None:
        """Route values for ``path`` (the part after the route prefix), or None on no match.

        An optional parameter with no segment, or an empty catch-all, gives no value (the host
        leaves null route values out of what it sends the worker).
        """
        body = path[1:] if path.startswith("/") else path
        raw = body.split("/") if body else []
        parts = raw[:-1] if raw and raw[-1] == "" else raw  # one trailing slash is not a segment
        values: dict[str, str] = {}
        for index, segment in enumerate(self.segments):
            present = index < len(parts)
            if present and not parts[index]:
                return None
            if segment.literal is not None:
                if not present or parts[index].lower() != segment.literal.lower():
                    return None
                continue
            if segment.catch_all:
                value = "/".join(raw[index:]) if present else segment.default
            else:
                value = parts[index] if present else segment.default
                if value is None and not segment.optional:
                    return None
            if value is None:
                # No value: an optional parameter passes; a constrained catch-all does not.
                if segment.checks and segment.catch_all:
                    return None
                continue
            if not segment.accepts(value):
                return None
            values[segment.name or ""] = value
            if segment.catch_all:
                return values
        return values if len(parts) <= len(self.segments) else None


def _parameter_spec(spec: str, template: str) -> tuple[tuple[Callable[[str], bool], ...],
                                                        str | None]:
    """The constraints and default of ``:c1:c2(arg)=default`` (the text after the name)."""
    checks: list[Callable[[str], bool]] = []
    position = 0
    while position < len(spec) and spec[position] == ":":
        found = _CONSTRAINT.match(spec, position)
        if not found:
            break
        checks.append(_constraint(found.group(1), found.group(2), template))
        position = found.end()
    rest = spec[position:]
    if rest and not rest.startswith("="):
        raise IndexingError(f"route '{template}': malformed constraint '{rest}'")
    return tuple(checks), (rest[1:] if rest else None)


def compile_route(template: str) -> Route:
    """Compile a route template (without the route prefix); raises IndexingError if malformed."""
    raw = [p for p in template.strip().strip("/").split("/")] if template.strip("/ ") else []
    segments: list[_Segment] = []
    names: set[str] = set()
    for index, part in enumerate(raw):
        if "{" not in part and "}" not in part:
            if not part:
                raise IndexingError(f"route '{template}': empty segment")
            segments.append(_Segment(literal=part))
            continue
        match = _PARAM.match(part)
        if not match:
            raise IndexingError(f"route '{template}': segment '{part}' is not supported; use one "
                                f"parameter per segment like {{name}}, {{id:int}}, {{name?}}, "
                                f"{{id=1}}, {{*rest}}")
        star, name, spec, optional = match.groups()
        if name.lower() in names:
            raise IndexingError(f"route '{template}': parameter '{name}' appears twice")
        names.add(name.lower())
        if star and index != len(raw) - 1:
            raise IndexingError(f"route '{template}': a catch-all parameter must be last")
        if star and optional:
            raise IndexingError(f"route '{template}': a catch-all parameter cannot be optional")
        checks, default = _parameter_spec(spec or "", template)
        if optional and default is not None:
            raise IndexingError(f"route '{template}': an optional parameter cannot have a "
                                f"default value")
        segments.append(_Segment(literal=None, name=name, checks=checks, optional=bool(optional),
                                 catch_all=bool(star), default=default))
    return Route(template=template, segments=tuple(segments))
