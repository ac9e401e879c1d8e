"""Check an evaluated value against Bicep type data, the way Bicep's TypeValidator does.

The diagnostics and their levels follow Azure/bicep ``src/Bicep.Core/TypeSystem/TypeValidator.cs``
and ``src/Bicep.Core/Diagnostics/DiagnosticBuilder.cs``:

- BCP037 / BCP089 a property the type does not have (BCP089 when Bicep suggests a name);
- BCP073 a read-only property set; BCP173 a property set on an ``existing`` resource;
- BCP035 a required property missing; BCP078 a missing discriminator;
- BCP036 / BCP088 a value of the wrong type, or a literal outside the allowed values;
- BCP327 / BCP328 an integer out of range, BCP332 / BCP333 a string or array of the wrong
  length, BCP416 a string that does not match the pattern; BCP329 / BCP330 / BCP334 / BCP335 a
  parameter whose declared range reaches past the property's;
- BCP187 a property Bicep knows for every resource but this type's data lacks.

Most of these are warnings in a resource body (only a wrong top-level property, or a wrong
``name``, is an error): ``bicep build`` prints them and still builds, and ARM then rejects the
deployment or silently drops the value. The check fails on every one.

Values come from ``bicep_evaluate``. An ``Unknown`` without a type cannot be checked and is
counted as skipped; an ``Unknown`` with a type is checked by type (and bounds) only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.infra.bicep_evaluate import Either, Unknown
from tests.infra.bicep_spelling import spelling_suggestion
from tests.infra.bicep_type_bounds import pattern_problem, range_problems
from tests.infra.bicep_types import FLAG_READ_ONLY, FLAG_REQUIRED, TypeNode

__all__ = ["FLAG_FALLBACK", "FLAG_SYSTEM", "Path", "Problem", "Property", "Tally", "TypeChecker"]

Path = tuple[str | int, ...]

# Flags of our own, beside bicep-types' Required / ReadOnly: see bicep_resource_check.
FLAG_SYSTEM = 1 << 8  # name, scope, parent, dependsOn, id, type, apiVersion
FLAG_FALLBACK = 1 << 9  # a property Bicep adds to every resource body as a fallback

_MAX_LISTED = 8  # permissible properties named in a BCP037 message


@dataclass(frozen=True)
class Property:
    """One property an object may have: its type (None: not checked, e.g. ``parent``), flags."""

    type: TypeNode | None
    flags: int


@dataclass(frozen=True)
class Problem:
    """One diagnostic, before it gets its file and line."""

    path: Path
    code: str
    level: str  # "error" or "warning", as bicep build prints it
    message: str
    hint: str | None = None  # the offending value as written, to find its line


@dataclass
class Tally:
    """What a check covered, by property path: compared exactly, by type only, or skipped.

    Paths, not values, so that the branches of ``?:`` count once.
    """

    checked: set[Path] = field(default_factory=set)
    typed: set[Path] = field(default_factory=set)
    skipped: dict[Path, str] = field(default_factory=dict)


class TypeChecker:
    """Walks one value against one type; collects problems and a tally."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.tally = Tally()
        # A wrong value for a top-level system property (``name``) is an error in Bicep.
        self._strict: set[Path] = set()

    def check(self, value: Any, node: TypeNode, path: Path, nullable: bool = False) -> None:
        if isinstance(value, Either):
            for option in value.options:
                self.check(option, node, path, nullable)
            return
        if value is None:
            self._check_null(node, path, nullable)
            return
        if isinstance(value, Unknown) and value.kind is None:
            self.tally.skipped.setdefault(path, value.text)
            return
        kind = node.kind
        if kind == "AnyType":
            self.tally.checked.add(path)
        elif kind == "UnionType":
            self._check_union(value, node, path)
        elif kind == "DiscriminatedObjectType":
            self.check_discriminated(value, node, path)
        elif kind == "ObjectType":
            if isinstance(value, dict):
                self.check_object(value, object_properties(node), node, path, top=False)
            else:
                self._expect_kind(value, "object", node, path)
        elif kind == "ArrayType":
            self._check_array(value, node, path)
        else:
            self._check_scalar(value, node, path)

    # Objects ---------------------------------------------------------------------------------

    def check_object(
        self,
        value: dict[str, Any],
        properties: dict[str, Property],
        node: TypeNode,
        path: Path,
        top: bool,
        existing: bool = False,
    ) -> None:
        """``value`` against ``properties`` (``top``: the resource body, checked strictly)."""
        name = node.describe()
        additional = node.additional_properties()
        for key, item in value.items():
            spec = properties.get(key)
            where = (*path, key)
            if spec is None and additional is not None:
                self.check(item, additional, where)
            elif spec is None:
                self._unknown_property(key, value, properties, name, where, top)
            elif spec.flags & FLAG_READ_ONLY:
                self._read_only(key, spec, where, top, existing)
            elif spec.flags & FLAG_FALLBACK:
                message = (
                    f'The property "{key}" does not exist in the resource or type definition, '
                    "although it might still be valid."
                )
                self._report(where, "BCP187", False, message)
            elif spec.type is not None:  # None: a Bicep keyword, whose value is a resource
                if top and spec.flags & FLAG_SYSTEM:
                    self._strict.add(where)
                self.check(item, spec.type, where, nullable=not spec.flags & FLAG_REQUIRED)
        missing = sorted(
            key
            for key, spec in properties.items()
            if spec.flags & FLAG_REQUIRED and not spec.flags & FLAG_READ_ONLY and key not in value
        )
        if missing:
            system = any(properties[key].flags & FLAG_SYSTEM for key in missing)
            listed = ", ".join(f'"{key}"' for key in missing)
            message = (
                f'The specified "{"resource" if top else "object"}" declaration is missing the '
                f"following required properties: {listed}."
            )
            self._report(path, "BCP035", top and system, message)

    def check_discriminated(
        self,
        value: Any,
        node: TypeNode,
        path: Path,
        top: bool = False,
        existing: bool = False,
        decorate: Callable[[dict[str, Property]], dict[str, Property]] | None = None,
    ) -> None:
        """Pick the variant named by the discriminator (``name`` for ``sites/config``).

        ``decorate`` adjusts the chosen variant's properties (the resource body adds Bicep's
        keywords to it).
        """
        if not isinstance(value, dict):
            self._expect_kind(value, "object", node, path)
            return
        key = str(node.data["discriminator"])
        variants = node.variants()
        choices = " | ".join(f"'{choice}'" for choice in sorted(variants))
        chosen = value.get(key)
        if key not in value:
            message = f'The property "{key}" requires a value of type "{choices}", but none was '
            self._report((*path, key), "BCP078", False, message + "supplied.")
        elif isinstance(chosen, str) and chosen in variants:
            variant = variants[chosen]
            properties = {**node_properties(node.base_properties()), **object_properties(variant)}
            properties = decorate(properties) if decorate else properties
            self.check_object(value, properties, variant, path, top, existing)
        elif isinstance(chosen, str):  # a warning even for "name": Bicep's types may lag the RP
            self._mismatch((*path, key), choices, f"'{chosen}'", sorted(variants), chosen)
        else:
            text = chosen.text if isinstance(chosen, Unknown) else "a ?: of names"
            self.tally.skipped.setdefault((*path, key), f"{key}, which picks the body: {text}")

    def _unknown_property(
        self,
        key: str,
        value: dict[str, Any],
        properties: dict[str, Property],
        type_name: str,
        where: Path,
        top: bool,
    ) -> None:
        unspecified = sorted(
            name
            for name, spec in properties.items()
            if not spec.flags & (FLAG_READ_ONLY | FLAG_FALLBACK) and name not in value
        )
        suggestion = spelling_suggestion(key, unspecified)
        message = f'The property "{key}" is not allowed on objects of type "{type_name}".'
        if suggestion is not None:
            self._report(where, "BCP089", top, f'{message} Did you mean "{suggestion}"?')
        elif unspecified:
            listed = ", ".join(f'"{name}"' for name in unspecified[:_MAX_LISTED])
            more = len(unspecified) - _MAX_LISTED
            listed += f" and {more} more" if more > 0 else ""
            message += f" Permissible properties include {listed}."
            self._report(where, "BCP037", top, message)
        else:
            self._report(where, "BCP037", top, f"{message} No other properties are allowed.")

    def _read_only(self, key: str, spec: Property, where: Path, top: bool, existing: bool) -> None:
        if existing:
            message = f'The property "{key}" cannot be used in an existing resource declaration.'
            self._report(where, "BCP173", True, message)
            return
        error = top and bool(spec.flags & FLAG_SYSTEM)
        message = (
            f'The property "{key}" is read-only. '
            "Expressions cannot be assigned to read-only properties."
        )
        self._report(where, "BCP073", error, message)

    # Arrays, unions, scalars -----------------------------------------------------------------

    def _check_array(self, value: Any, node: TypeNode, path: Path) -> None:
        if not isinstance(value, list):
            self._expect_kind(value, "array", node, path)
            return
        self._check_length(len(value), node, path)
        item = node.follow(node.data["itemType"])
        for index, element in enumerate(value):
            self.check(element, item, (*path, index))

    def _check_union(self, value: Any, node: TypeNode, path: Path) -> None:
        members = node.members()
        if isinstance(value, dict | list):
            wanted = ("ObjectType", "DiscriminatedObjectType") if isinstance(value, dict) else (
                "ArrayType",)
            fitting = [member for member in members if member.kind in wanted]
            if len(fitting) == 1:
                self.check(value, fitting[0], path)
            elif not fitting:
                self._expect_kind(value, "object" if isinstance(value, dict) else "array", node,
                                  path)
            else:
                self.tally.skipped.setdefault(path, f"which of {node.describe()} is meant")
            return
        for candidate in _candidates(value):
            if not any(_fits(candidate, member) for member in members):
                literals = [str(m.data["value"]) for m in members if m.kind == "StringLiteralType"]
                self._mismatch(path, node.describe(), _describe(candidate), literals,
                               candidate if isinstance(candidate, str) else None)
                return
        self._count(value, path)

    def _check_scalar(self, value: Any, node: TypeNode, path: Path) -> None:
        for candidate in _candidates(value):
            if not _fits(candidate, node):
                literal = [str(node.data["value"])] if node.kind == "StringLiteralType" else []
                self._mismatch(path, node.describe(), _describe(candidate), literal,
                               candidate if isinstance(candidate, str) else None)
                return
        if node.kind in ("StringType", "IntegerType"):
            self._check_bounds(value, node, path)
        self._count(value, path)

    def _check_bounds(self, value: Any, node: TypeNode, path: Path) -> None:
        """Length, pattern and range of literals; the declared range of a parameter."""
        length = node.kind == "StringType"
        for candidate in _candidates(value):
            hint = None
            if isinstance(candidate, Unknown):
                low, high = candidate.low, candidate.high
            elif isinstance(candidate, str):
                low = high = len(candidate)
                hint = f"'{candidate}'"
                if (problem := pattern_problem(candidate, node)) is not None:
                    self._report(path, problem[0], False, problem[1], hint)
            else:
                low = high = int(candidate)
                hint = str(candidate)
            for code, message in range_problems(low, high, node, length):
                self._report(path, code, False, message, hint)

    def _check_length(self, length: int, node: TypeNode, path: Path) -> None:
        for code, message in range_problems(length, length, node, length=True):
            self._report(path, code, False, message)

    def _check_null(self, node: TypeNode, path: Path, nullable: bool) -> None:
        fits = nullable or node.kind in ("AnyType", "NullType") or (
            node.kind == "UnionType" and any(m.kind == "NullType" for m in node.members()))
        if fits:
            self.tally.checked.add(path)
        else:
            self._mismatch(path, node.describe(), "null", [], None)

    def _expect_kind(self, value: Any, kind: str, node: TypeNode, path: Path) -> None:
        if isinstance(value, Unknown) and value.kind == kind:
            self.tally.typed.add(path)
        else:
            self._mismatch(path, node.describe(), _describe(value), [], None)

    def _mismatch(
        self,
        path: Path,
        expected: str,
        actual: str,
        literals: list[str],
        literal: str | None,
    ) -> None:
        prop = str(path[-1]) if path else "value"
        error = path in self._strict
        suggestion = spelling_suggestion(literal, literals) if literal is not None else None
        hint = None if literal is None else f"'{literal}'"
        if suggestion is not None:
            self._report(path, "BCP088", error, f'The property "{prop}" expected a value of type '
                         f'"{expected}" but the provided value is of type "{actual}". Did you '
                         f'mean "{suggestion}"?', hint)
        else:
            self._report(path, "BCP036", error, f'The property "{prop}" expected a value of type '
                         f'"{expected}" but the provided value is of type "{actual}".', hint)

    def _count(self, value: Any, path: Path) -> None:
        if isinstance(value, Unknown):
            self.tally.typed.add(path)
        else:
            self.tally.checked.add(path)

    def _report(
        self, path: Path, code: str, error: bool, message: str, hint: str | None = None
    ) -> None:
        level = "error" if error else "warning"
        self.problems.append(Problem(path, code, level, message, hint))


def object_properties(node: TypeNode) -> dict[str, Property]:
    return node_properties(node.properties())


def node_properties(table: dict[str, tuple[TypeNode, int]]) -> dict[str, Property]:
    return {name: Property(kind, flags) for name, (kind, flags) in table.items()}


def _candidates(value: Any) -> tuple[Any, ...]:
    """The values to test: a parameter's @allowed list stands for the parameter."""
    if isinstance(value, Unknown) and value.allowed:
        return value.allowed
    return (value,)


_PYTHON_KINDS = {str: "string", int: "int", bool: "bool"}
_TYPE_KINDS = {"StringType": "string", "IntegerType": "int", "BooleanType": "bool"}


def _fits(value: Any, node: TypeNode) -> bool:
    """Bicep's AreTypesAssignable for a literal or a typed Unknown against one type node."""
    kind = node.kind
    if kind == "AnyType":
        return True
    if isinstance(value, Unknown):
        if kind == "StringLiteralType":
            return value.kind == "string" and value.loose  # a parameter without @allowed
        return _TYPE_KINDS.get(kind) == value.kind
    if kind == "StringLiteralType":
        return isinstance(value, str) and value == node.data["value"]
    return _TYPE_KINDS.get(kind) == _PYTHON_KINDS.get(type(value))


def _describe(value: Any) -> str:
    """The type Bicep gives a value: ``'x'`` for a string literal, ``int``, ``string``."""
    if isinstance(value, Unknown):
        return value.kind or "any"
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return "object" if isinstance(value, dict) else "array"
    return "null" if value is None else str(value)
