"""Type-check every resource in infra/ against Bicep's type data, as ``bicep build`` would.

For each ``resource`` (nested ones included) this finds the type data for its type and API
version (BCP081 when there is none), builds the body type the way Bicep does
(AzResourceTypeProvider.SetBicepResourceProperties in Azure/bicep), evaluates the declared body
offline and walks it with ``bicep_type_check.TypeChecker``. Bicep's keywords:

- ``name`` is required; ``dependsOn`` is allowed everywhere; ``scope`` only on ``existing``
  resources and on types that may be deployed as extensions or at tenant scope (role
  assignments); ``parent`` only on a child type declared outside its parent;
- ``existing``: every property but ``name``, ``scope``, ``parent`` and ``dependsOn`` is
  read-only (BCP173 if set), and nothing but ``name`` is required;
- ``if (...)``: the body is checked as written; a ``[for ...]`` loop: the body is checked once,
  with the loop variables as unknown values;
- a child type whose body depends on its ``name`` (``sites/config``: ``appsettings``,
  ``authsettingsV2``, ...) is checked against the body that ``name`` selects.

Each problem gets the file, the line and the property path (``bicep_source_lines``). The text
is also searched for a key written twice in one object (BCP025), which pycep would hide.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tests.infra.bicep_evaluate import Evaluator, Unknown, parameter_types
from tests.infra.bicep_source_lines import SourceLines
from tests.infra.bicep_type_check import (
    FLAG_FALLBACK,
    FLAG_SYSTEM,
    Problem,
    Property,
    Tally,
    TypeChecker,
    object_properties,
)
from tests.infra.bicep_types import (
    FLAG_READ_ONLY,
    FLAG_REQUIRED,
    SCOPE_EXTENSION,
    SCOPE_TENANT,
    ResourceTypeData,
    TypeIndex,
    TypeNode,
)
from tests.infra.infra_model import BicepFile, Infra, body

__all__ = ["Finding", "Skipped", "TypeReport", "check_file", "check_infra", "check_resource"]

# Properties Bicep offers on every resource body, as a fallback when the type data lacks them
# (AzResourceTypeProvider.KnownTopLevelResourceProperties; "asserts" is experimental, left out).
KNOWN_TOP_LEVEL = (
    "location", "tags", "properties", "sku", "kind", "managedBy", "managedByExtended",
    "extendedLocation", "zones", "placement", "plan", "eTag", "scale", "identity",
)  # fmt: skip
SYSTEM_PROPERTIES = frozenset({"id", "name", "type", "apiVersion", "scope", "parent", "dependsOn"})
EXISTING_SETTABLE = frozenset({"name", "scope", "parent", "dependsOn"})
PYCEP_IMPLICIT = "depends_on"  # pycep adds it to nested resources; it is not in the source


@dataclass(frozen=True)
class Finding:
    """A problem ``bicep build`` would report, where it would report it."""

    file: str
    line: int
    resource: str
    resource_type: str
    path: str
    code: str
    level: str
    message: str

    def __str__(self) -> str:
        where = f"{self.resource} {self.path}".rstrip()
        return f"{self.file}:{self.line}: {where}: {self.code} ({self.level}) {self.message}"


@dataclass(frozen=True)
class Skipped:
    """A value the check could not know offline."""

    file: str
    line: int
    resource: str
    path: str
    expression: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.resource} {self.path}: {self.expression}"


@dataclass(frozen=True)
class TypeReport:
    """The findings, plus what the check covered."""

    resources: int
    checked: int
    typed: int
    findings: tuple[Finding, ...]
    skipped: tuple[Skipped, ...]

    def summary(self) -> str:
        return (
            f"bicep type check: {self.resources} resources, {self.checked} values checked, "
            f"{self.typed} checked by type only, {len(self.skipped)} expressions skipped "
            f"(known only at deployment), {len(self.findings)} problems"
        )


def check_infra(infra: Infra, index: TypeIndex) -> TypeReport:
    """Every resource of every .bicep file under ``infra.root``."""
    reports = [
        check_file(bicep, f"{infra.root.name}/{relative}", index)
        for relative, bicep in sorted(infra.bicep.items())
    ]
    return TypeReport(
        sum(report.resources for report in reports),
        sum(report.checked for report in reports),
        sum(report.typed for report in reports),
        tuple(finding for report in reports for finding in report.findings),
        tuple(skipped for report in reports for skipped in report.skipped),
    )


def check_file(bicep: BicepFile, display: str, index: TypeIndex) -> TypeReport:
    """Every resource of one file; ``display`` names the file in findings."""
    findings: list[Finding] = []
    skipped: list[Skipped] = []
    checked = typed = 0
    lines = SourceLines(bicep.text)
    for symbol, resource in bicep.resources.items():
        problems, tally = check_resource(bicep, symbol, resource, index)
        chain = symbol.split("__")
        declared = lines.resource_line(chain) or 1
        name, kind = chain[-1], f"{resource['type']}@{resource['api_version']}"
        for problem in problems:
            line = lines.property_line(declared, problem.path, problem.hint)
            findings.append(
                Finding(display, line, name, kind, _dotted(problem.path), problem.code,
                        problem.level, problem.message)
            )  # fmt: skip
        for path, expression in tally.skipped.items():
            line = lines.property_line(declared, path)
            skipped.append(Skipped(display, line, name, _dotted(path), expression))
        checked += len(tally.checked)
        typed += len(tally.typed - tally.checked)
    for line, key in lines.duplicate_keys():
        message = (
            f'The property "{key}" is declared multiple times in this object. '
            "Remove or rename the duplicate properties."
        )
        owner = lines.declaration_at(line)
        findings.append(Finding(display, line, owner, "", key, "BCP025", "error", message))
    resources = len(bicep.resources)
    return TypeReport(resources, checked, typed, tuple(findings), tuple(skipped))


def check_resource(
    bicep: BicepFile, symbol: str, resource: dict[str, Any], index: TypeIndex
) -> tuple[list[Problem], Tally]:
    """The problems of one pycep resource, and what its check covered."""
    resource_type, api_version = str(resource["type"]), str(resource["api_version"])
    data = index.find(resource_type, api_version)
    checker = TypeChecker()
    if data is None:
        message = (
            f'Resource type "{resource_type}@{api_version}" does not have types available. '
            "(No types.json in tests/infra/bicep_types/ has it: copy the file from "
            "Azure/bicep-types-az and list it in SOURCE.)"
        )
        return [Problem((), "BCP081", "warning", message)], checker.tally
    raw = {key: value for key, value in body(resource).items() if key != PYCEP_IMPLICIT}
    evaluator = Evaluator(bicep, parameter_types(bicep), _loop_variables(resource))
    value = evaluator.evaluate(raw)
    shape = _Shape(
        child=resource_type.count("/") > 1,
        nested="__" in symbol,
        existing=bool(resource.get("existing")),
        named_by_parent="parent" in raw or "__" in symbol,
    )
    _check_body(checker, value, data, shape)
    return checker.problems, checker.tally


@dataclass(frozen=True)
class _Shape:
    child: bool  # Microsoft.X/parent/child: more than one type segment
    nested: bool  # declared inside its parent's body
    existing: bool
    named_by_parent: bool  # Bicep can read a literal child name (nested, or with parent:)


def _check_body(checker: TypeChecker, value: Any, data: ResourceTypeData, shape: _Shape) -> None:
    node = data.body
    if node.kind == "DiscriminatedObjectType" and shape.child and not shape.named_by_parent:
        # A top-level child named "parent/child": Bicep cannot pick the body by name, so it falls
        # back to a generic body with only the common resource properties.
        table = _generic_properties(node)
        checker.check_object(value, _keywords(table, data, shape), node, (), True, shape.existing)
    elif node.kind == "DiscriminatedObjectType":

        def decorate(table: dict[str, Property]) -> dict[str, Property]:
            return _keywords(table, data, shape)

        checker.check_discriminated(value, node, (), True, shape.existing, decorate)
    else:
        table = _keywords(object_properties(node), data, shape)
        checker.check_object(value, table, node, (), True, shape.existing)


def _keywords(
    table: dict[str, Property], data: ResourceTypeData, shape: _Shape
) -> dict[str, Property]:
    """The body's properties plus Bicep's own, with Bicep's flags."""
    properties = {
        name: Property(prop.type, prop.flags | (FLAG_SYSTEM if name in SYSTEM_PROPERTIES else 0))
        for name, prop in table.items()
    }
    if shape.child and not shape.named_by_parent and "name" in properties:
        properties["name"] = Property(None, FLAG_REQUIRED | FLAG_SYSTEM)  # "parent/child"
    properties["dependsOn"] = Property(None, FLAG_SYSTEM)
    if shape.existing or data.scopes & (SCOPE_EXTENSION | SCOPE_TENANT):
        properties["scope"] = Property(None, FLAG_SYSTEM)
    if shape.child and not shape.nested:
        properties["parent"] = Property(None, FLAG_SYSTEM)
    for name in KNOWN_TOP_LEVEL:
        properties.setdefault(name, Property(None, FLAG_FALLBACK))
    if shape.existing:
        properties = {
            name: prop if name in EXISTING_SETTABLE else _read_only(prop)
            for name, prop in properties.items()
        }
    return properties


def _read_only(prop: Property) -> Property:
    return Property(prop.type, (prop.flags | FLAG_READ_ONLY) & ~FLAG_REQUIRED)


def _generic_properties(node: TypeNode) -> dict[str, Property]:
    names = {name for variant in node.variants().values() for name in variant.properties()}
    common = {"id", "name", "type", "apiVersion", *KNOWN_TOP_LEVEL}
    required = {"name": FLAG_REQUIRED}
    return {name: Property(None, required.get(name, 0)) for name in sorted(names & common)}


def _loop_variables(resource: dict[str, Any]) -> dict[str, Unknown]:
    """``[for (item, i) in ...]``: the item is unknown, the index an unknown int."""
    detail = (resource["config"].get("loop_type") or {}).get("detail") or {}
    names: dict[str, Unknown] = {}
    for key, name in detail.items():
        if key.endswith("_name") and key != "array_name" and name:
            names[str(name)] = Unknown(str(name), "int" if "index" in key else None)
    return names


def _dotted(path: Iterable[str | int]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def main() -> int:
    """List every finding and every skipped expression of infra/; exit 1 on any finding."""
    from tests.infra.bicep_types import load_type_index
    from tests.infra.infra_model import load_infra

    report = check_infra(load_infra(), load_type_index())
    for finding in report.findings:
        print(finding)
    for skipped in report.skipped:
        print(f"skipped: {skipped}")
    print(report.summary())
    return 1 if report.findings else 0


if __name__ == "__main__":
    raise SystemExit(main())
