"""Evaluate pycep values the way Bicep would, as far as that is possible offline.

``Evaluator(bicep, parameters).evaluate(raw)`` turns a pycep value into plain Python: literals,
dicts and lists, with variables followed, ``${...}`` interpolation expanded, ``?:``, comparisons,
``&&``/``||``/``!``, ``empty``, ``string``, ``union``, ``toLower`` and ``loadJsonContent``
computed. What only a deployment knows (resource properties, module outputs, ``uniqueString``,
a parameter nobody has set) becomes ``Unknown``, which still carries what Bicep knows of the value
at compile time: its type, ``@allowed`` values and bounds. A ``?:`` whose condition is unknown
becomes ``Either`` (both branches).

The caller chooses what parameters are: the type check passes each parameter's declared type
(``parameter_types``), so a value stays "some string"; the deployment comparison passes the
values azd would pass, so everything it can compute is computed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tests.infra.infra_model import BicepFile, is_reference
from tests.infra.pycep_expressions import is_operator, normalize

__all__ = ["Either", "Evaluator", "Unknown", "is_known", "parameter_types"]

_MAX_DEPTH = 40
_MAX_UNION_CHOICES = 6  # at most 2**6 combinations of ?: branches inside one union()
_TOKEN = re.compile(r"Token\('[A-Z_]+', '([^']*)'\)")
_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")

# Functions whose result type Bicep knows although the value needs a deployment.
_RESULT_KINDS = {
    "guid": "string",
    "unique_string": "string",
    "format": "string",
    "replace": "string",
    "substring": "string",
    "trim": "string",
    "uri": "string",
    "base64": "string",
    "resource_id": "string",
    "subscription_resource_id": "string",
    "tenant_resource_id": "string",
    "extension_resource_id": "string",
    "length": "int",
    "contains": "bool",
    "starts_with": "bool",
    "ends_with": "bool",
}
_COMPARISONS = {
    "greater_than": lambda a, b: a > b,
    "greater_than_or_equals": lambda a, b: a >= b,
    "less_than": lambda a, b: a < b,
    "less_than_or_equals": lambda a, b: a <= b,
}
_ARITHMETIC = {
    "add": lambda a, b: a + b,
    "substract": lambda a, b: a - b,
    "multiply": lambda a, b: a * b,
}


@dataclass(frozen=True)
class Unknown:
    """A value only a deployment knows, with what Bicep knows of it at compile time."""

    text: str  # the expression as written, for messages
    kind: str | None = None  # 'string' | 'int' | 'bool' | 'object' | 'array'; None: anything
    allowed: tuple[Any, ...] = ()  # a parameter's @allowed values
    low: int | None = None  # @minValue, or @minLength for strings and arrays
    high: int | None = None  # @maxValue, or @maxLength
    loose: bool = False  # a parameter without @allowed may fill an enum (Bicep: loose assignment)


@dataclass(frozen=True)
class Either:
    """``c ? a : b`` with a condition known only at deployment: the value is one of ``options``."""

    condition: str
    options: tuple[Any, Any]


def is_known(value: Any) -> bool:
    return not isinstance(value, Unknown | Either)


def parameter_types(bicep: BicepFile) -> dict[str, Unknown]:
    """What Bicep knows of each parameter of ``bicep`` before anyone sets it."""
    types: dict[str, Unknown] = {}
    for name, spec in bicep.parameters.items():
        decorators = {d["type"]: d.get("argument") for d in spec.get("decorators", [])}
        allowed = tuple(decorators.get("allowed") or ())
        low = decorators.get("min_value", decorators.get("min_length"))
        high = decorators.get("max_value", decorators.get("max_length"))
        types[name] = Unknown(
            text=name,
            kind=str(spec.get("type")),
            allowed=allowed,
            low=None if low is None else int(low),
            high=None if high is None else int(high),
            loose=not allowed,
        )
    return types


class Evaluator:
    """Evaluates pycep values of one file, given its parameters (see the module docstring)."""

    def __init__(
        self,
        bicep: BicepFile,
        parameters: Mapping[str, Any],
        names: Mapping[str, Any] | None = None,
    ) -> None:
        self.bicep = bicep
        self.parameters = parameters
        self.names = dict(names or {})  # loop variables and other overrides
        self._depth = 0

    def evaluate(self, raw: Any) -> Any:
        if self._depth > _MAX_DEPTH:
            return Unknown(str(raw))
        self._depth += 1
        try:
            return self._evaluate(raw)
        finally:
            self._depth -= 1

    def _evaluate(self, raw: Any) -> Any:
        if is_reference(raw):
            return self.lookup(str(raw))
        if raw is None or isinstance(raw, bool | int):
            return raw
        if isinstance(raw, str):
            return self.interpolate(raw)
        if isinstance(raw, list):
            return [self.evaluate(item) for item in raw]
        if is_operator(raw):
            return self.operator(normalize(raw))
        if isinstance(raw, dict) and set(raw) == {"function"}:
            return self.function(raw["function"])
        if isinstance(raw, dict):
            return {_key(key): self.evaluate(value) for key, value in raw.items()}
        return Unknown(repr(raw))

    def lookup(self, name: str) -> Any:
        if name in self.names:
            return self.names[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.bicep.variables:
            return self.evaluate(self.bicep.variables[name]["value"])
        return Unknown(name)  # a resource, a module, or a name this file does not declare

    def interpolate(self, text: str) -> Any:
        parts = _split_interpolation(text)
        if parts is None:
            return Unknown(text, "string")
        pieces: list[str] = []
        for literal, expression in parts:
            pieces.append(literal)
            if expression is None:
                continue
            value = self.path(expression) if _PATH.fullmatch(expression) else Unknown(expression)
            if not is_known(value) or isinstance(value, dict | list):
                return Unknown(text, "string")
            pieces.append(_as_text(value))
        return "".join(pieces)

    def path(self, dotted: str) -> Any:
        head, *names = dotted.split(".")
        return self.access(self.lookup(head), names, dotted)

    def access(self, value: Any, names: list[str], text: str) -> Any:
        for name in names:
            if not isinstance(value, dict) or name not in value:
                return Unknown(text)
            value = value[name]
        return value

    def operator(self, node: dict[str, Any]) -> Any:
        kind = node["operator"]["type"]
        operands = node["operator"]["operands"]
        if kind == "conditional":
            condition = self.evaluate(operands["condition"])
            if isinstance(condition, bool):
                return self.evaluate(operands["true_value" if condition else "false_value"])
            true_value = self.evaluate(operands["true_value"])
            return Either(_text(condition), (true_value, self.evaluate(operands["false_value"])))
        if kind == "property_accessor":
            base, names = operands["operand_1"], _accessor_names(operands["operand_2"])
            return self.access(self.evaluate(base), names, ".".join([str(base), *names]))
        if kind == "index_accessor":
            base, index = self.evaluate(operands["operand_1"]), self.evaluate(operands["operand_2"])
            if isinstance(base, list | dict) and is_known(index):
                try:
                    return base[index]
                except (IndexError, KeyError, TypeError):
                    pass
            return Unknown(f"{_text(base)}[{_text(index)}]")
        values = [self.evaluate(value) for value in operands.values()]
        return _combine(kind, values)

    def function(self, call: dict[str, Any]) -> Any:
        kind = call["type"]
        arguments = list((call.get("parameters") or {}).values())
        result = self._call(kind, arguments, call.get("parameters") or {})
        names = _property_names(call.get("property_name"))
        return self.access(result, names, ".".join([f"{kind}()", *names])) if names else result

    def _call(self, kind: str, arguments: list[Any], named: dict[str, Any]) -> Any:
        if kind == "load_json_content" and named.get("json_path") is None:
            path = self.bicep.path.parent / str(named["file_path"])
            return json.loads(path.read_text(encoding="utf-8"))
        values = [self.evaluate(argument) for argument in arguments if argument is not None]
        known = all(is_known(value) for value in values)
        if kind == "empty" and known:
            return values[0] is None or len(values[0]) == 0
        if kind == "empty":
            return _unknown(kind, "bool")
        if kind == "string" and known:
            return _as_text(values[0])
        if kind in ("to_lower", "to_upper") and known and isinstance(values[0], str):
            return values[0].lower() if kind == "to_lower" else values[0].upper()
        if kind == "union":
            return _union(values)
        if kind in ("string", "to_lower", "to_upper"):
            return _unknown(kind, "string")
        return _unknown(kind, _RESULT_KINDS.get(kind))


def _combine(kind: str, values: list[Any]) -> Any:
    """An operator over already evaluated operands."""
    known = all(is_known(value) for value in values)
    if kind == "not":
        return (not values[0]) if isinstance(values[0], bool) else _unknown("!", "bool")
    if kind == "minus":
        number = values[0]
        is_int = isinstance(number, int) and not isinstance(number, bool)
        return -number if is_int else _unknown("-", "int")
    if kind in ("and", "or"):
        decisive = kind == "or"  # True decides ||, False decides &&
        if any(value is decisive for value in values):
            return decisive
        return (not decisive) if known else _unknown(kind, "bool")
    if kind in ("equals", "not_equals"):
        if not known:
            return _unknown(kind, "bool")
        return (values[0] == values[1]) == (kind == "equals")
    if kind in _COMPARISONS:
        return _COMPARISONS[kind](*values) if known else _unknown(kind, "bool")
    if kind in _ARITHMETIC:
        return _ARITHMETIC[kind](*values) if known else _unknown(kind, "int")
    if kind == "coalesce" and known:
        return next((value for value in values if value is not None), None)
    return _unknown(kind)


def _union(values: list[Any]) -> Any:
    """``union()`` of objects (later keys win) or of arrays (no duplicates, in order).

    An ``Either`` argument makes the result an ``Either`` of unions, so each combination of
    branches is checked as the object it really is.
    """
    choices = sum(isinstance(value, Either) for value in values)
    for position, value in enumerate(values):
        if isinstance(value, Either) and choices <= _MAX_UNION_CHOICES:
            options = tuple(
                _union([*values[:position], option, *values[position + 1 :]])
                for option in value.options
            )
            return Either(value.condition, (options[0], options[1]))
    if values and all(isinstance(value, dict) for value in values):
        merged: dict[str, Any] = {}
        for value in values:
            merged.update(value)
        return merged
    if values and all(isinstance(value, list) for value in values):
        joined: list[Any] = []
        for value in values:
            joined.extend(item for item in value if item not in joined)
        return joined
    arrays = any(isinstance(v, list) or getattr(v, "kind", None) == "array" for v in values)
    return _unknown("union", "array" if arrays else "object")


def _unknown(what: str, kind: str | None = None) -> Unknown:
    return Unknown(f"{what}(...)", kind)


def _key(key: str) -> str:
    """An object key without the quotes pycep keeps on quoted keys (``'azd-env-name'``)."""
    return key[1:-1] if len(key) >= 2 and key[0] == key[-1] == "'" else key


def _text(value: Any) -> str:
    return value.text if isinstance(value, Unknown) else repr(value)


def _as_text(value: Any) -> str:
    """A value as Bicep writes it into an interpolated string or ``string()``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return "" if value is None else str(value)


def _property_names(raw: Any) -> list[str]:
    """``f().a.b``: pycep 0.5.1 stores ``a.b`` as the text of a list of lark tokens."""
    if not raw:
        return []
    text = str(raw)
    return _TOKEN.findall(text) or text.split(".")


def _accessor_names(node: Any) -> list[str]:
    """pycep nests ``a.b.c`` as ``a . (b . c)``: the names after the first operand."""
    if is_operator(node, "property_accessor"):
        operands = node["operator"]["operands"]
        return [*_accessor_names(operands["operand_1"]), *_accessor_names(operands["operand_2"])]
    return [str(node)]


def _split_interpolation(text: str) -> list[tuple[str, str | None]] | None:
    """``[(literal, expression or None), ...]`` for ``'a${b}c'``; None if a ``${`` never closes."""
    parts: list[tuple[str, str | None]] = []
    literal_start = position = 0
    while (start := text.find("${", position)) != -1:
        depth, cursor, quote = 1, start + 2, False
        while cursor < len(text) and depth:
            char = text[cursor]
            if char == "'":
                quote = not quote
            elif not quote and char == "{":
                depth += 1
            elif not quote and char == "}":
                depth -= 1
            cursor += 1
        if depth:
            return None
        parts.append((text[literal_start:start], text[start + 2 : cursor - 1].strip()))
        literal_start = position = cursor
    parts.append((text[literal_start:], None))
    return parts
