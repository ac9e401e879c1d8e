"""ASP.NET-style route templates for HTTP triggers, pure (docs/functions-host.md, "HTTP trigger").

Supports literals (matched case-insensitively), ``{name}``, constraints ``{id:int}`` (int, long,
bool, guid, alpha, double, float, decimal, datetime, min(n), max(n), range(a,b), minlength(n),
maxlength(n), length(n), regex(...)), optional ``{name?}`` and catch-all ``{*rest}`` as the last
segment. Routes are tried in ASP.NET precedence order: literal < constrained < plain < optional <
catch-all, segment by segment.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ..errors import IndexingError

__all__ = ["Route", "compile_route"]

_PARAM = re.compile(r"^\{(\*{1,2})?([A-Za-z_][A-Za-z0-9_]*)((?::[^{}?]+)*)(\?)?\}$")
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

    @property
    def rank(self) -> int:
        if self.literal is not None:
            return 0
        if self.catch_all:
            return 4
        if self.optional:
            return 3
        return 1 if self.checks else 2


@dataclass(frozen=True)
class Route:
    """A compiled template; :meth:`match` returns the route values or None."""

    template: str
    segments: tuple[_Segment, ...]

    @property
    def precedence(self) -> tuple[int, ...]:
        return tuple(s.rank for s in self.segments)

    def match(self, path: str) -> dict[str, str] | None:
        parts = [p for p in path.strip("/").split("/")] if path.strip("/") else []
        values: dict[str, str] = {}
        for index, segment in enumerate(self.segments):
            if segment.catch_all:
                rest = "/".join(parts[index:])
                if rest or not segment.optional:
                    values[segment.name or ""] = rest
                return values
            if index >= len(parts):
                if all(s.optional or s.catch_all for s in self.segments[index:]):
                    return values
                return None
            part = parts[index]
            if segment.literal is not None:
                if part.lower() != segment.literal.lower():
                    return None
                continue
            if not part or not all(check(part) for check in segment.checks):
                return None
            values[segment.name or ""] = part
        return values if len(parts) == len(self.segments) else None


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
                                f"{{*rest}}")
        star, name, constraints, optional = match.groups()
        if name.lower() in names:
            raise IndexingError(f"route '{template}': parameter '{name}' appears twice")
        names.add(name.lower())
        if star and index != len(raw) - 1:
            raise IndexingError(f"route '{template}': a catch-all parameter must be last")
        checks = tuple(_constraint(c.group(1), c.group(2), template)
                       for c in _CONSTRAINT.finditer(constraints or ""))
        segments.append(_Segment(literal=None, name=name, checks=checks,
                                 optional=bool(optional) or bool(star), catch_all=bool(star)))
    for index, segment in enumerate(segments):
        later = segments[index + 1:]
        if segment.optional and not segment.catch_all and any(
                not (s.optional or s.catch_all) for s in later):
            raise IndexingError(f"route '{template}': an optional parameter must be at the end")
    return Route(template=template, segments=tuple(segments))
