"""Read infra/ for the offline checks: pycep-parsed Bicep plus the JSON and YAML azd reads.

No Bicep compiler can be installed offline (every wrapper downloads the CLI), so the checks work
on pycep-parser's tree. pycep does no evaluation, so this module adds the little that assertions
need: follow a reference to a variable or a parameter default, and expand ``${name}``
interpolation from those. Anything it cannot resolve (module outputs, resource properties,
function calls) is left as written, which keeps a check honest: it can only pass on what the
source really says.

pycep conventions relied on (pycep-parser 0.5.1, the version checkov 3.3.30 pins):

- literals are plain ``str``/``bool``/``int``; references are ``BicepElement`` (a ``str``
  subclass), so ``type(v) is str`` tells a literal from a reference;
- a conditional resource or module is ``{"condition": ..., "config": {...}}`` inside ``config``;
- nested child resources are flattened as ``parent__child``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, cast

from pycep import BicepParser
from pycep.transformer import BicepElement

__all__ = [
    "INFRA_DIR",
    "REPO_ROOT",
    "BicepFile",
    "Infra",
    "body",
    "is_reference",
    "load_infra",
    "parse_bicep",
    "read_azure_yaml",
    "render",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
INFRA_DIR = REPO_ROOT / "infra"

_INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_MAX_DEPTH = 20


@cache
def _parser() -> BicepParser:
    return BicepParser()


def is_reference(value: object) -> bool:
    """True for a pycep reference (variable, parameter, resource symbol), False for a literal."""
    return isinstance(value, BicepElement)


def body(resource: dict[str, Any]) -> dict[str, Any]:
    """The declared body of a resource or module, unwrapping ``if (...)`` conditions."""
    config = resource["config"]
    if "condition" in config and "config" in config:
        return config["config"]
    return config


_OPERATORS = {
    "equals": "==",
    "not_equals": "!=",
    "and": "&&",
    "or": "||",
}


def render(value: Any) -> str:
    """Bicep-like text for a pycep value, for readable comparisons and messages.

    Handles what the checks compare: references, literals, property access (``a.b.c``), binary
    comparisons and ``?:``; anything else falls back to ``repr``.
    """
    if is_reference(value):
        return str(value)
    if type(value) is str:
        return repr(value)
    if isinstance(value, dict) and set(value) == {"operator"}:
        node = value["operator"]
        operands = node.get("operands", {})
        kind = node.get("type")
        if kind == "property_accessor":
            return f"{render(operands['operand_1'])}.{render(operands['operand_2'])}"
        if kind in _OPERATORS:
            left, right = render(operands["operand_1"]), render(operands["operand_2"])
            return f"{left} {_OPERATORS[kind]} {right}"
        if kind == "conditional":
            return (
                f"{render(operands['condition'])} ? {render(operands['true_value'])}"
                f" : {render(operands['false_value'])}"
            )
    return repr(value)


@dataclass(frozen=True)
class BicepFile:
    """One parsed .bicep file."""

    path: Path
    text: str
    doc: dict[str, Any]

    @property
    def parameters(self) -> dict[str, Any]:
        return self.doc.get("parameters", {})

    @property
    def variables(self) -> dict[str, Any]:
        return self.doc.get("variables", {})

    @property
    def resources(self) -> dict[str, Any]:
        return self.doc.get("resources", {})

    @property
    def modules(self) -> dict[str, Any]:
        return self.doc.get("modules", {})

    @property
    def outputs(self) -> dict[str, Any]:
        return self.doc.get("outputs", {})

    @property
    def target_scope(self) -> str:
        return str(self.doc.get("globals", {}).get("scope", {}).get("value", "resourceGroup"))

    def resources_of_type(self, resource_type: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """(symbol, body) of every non-``existing`` resource of ``resource_type``."""
        for symbol, resource in self.resources.items():
            if resource["type"] == resource_type and not resource.get("existing"):
                yield symbol, body(resource)

    def resource_body(self, symbol: str) -> dict[str, Any]:
        return body(self.resources[symbol])

    def condition(self, symbol: str) -> Any:
        """The ``if (...)`` condition of a resource, or None when it is unconditional."""
        config = self.resources[symbol]["config"]
        return config.get("condition") if "config" in config else None

    def resolve(self, value: Any, _depth: int = 0) -> Any:
        """Follow references to variables and parameter defaults; expand interpolated strings."""
        if _depth > _MAX_DEPTH:
            return value
        if is_reference(value):
            name = str(value)
            if name in self.variables:
                return self.resolve(self.variables[name]["value"], _depth + 1)
            default = self.parameters.get(name, {}).get("default")
            if default is not None:
                return self.resolve(default, _depth + 1)
            return value
        if type(value) is str:
            return self.expand(value, _depth)
        return value

    def expand(self, text: str, _depth: int = 0) -> str:
        """Substitute ``${name}`` when ``name`` resolves to a literal string; keep it otherwise."""

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in self.variables:
                return match.group(0)
            resolved = self.resolve(BicepElement(name), _depth + 1)
            return resolved if type(resolved) is str else match.group(0)

        return _INTERPOLATION.sub(substitute, text)


@dataclass(frozen=True)
class Infra:
    """Everything under one infra/ directory (the real one or a broken copy)."""

    root: Path
    bicep: dict[str, BicepFile]
    parameters_json: dict[str, Any]
    abbreviations: dict[str, str]
    azure_yaml: dict[str, Any] = field(default_factory=dict)

    @property
    def main(self) -> BicepFile:
        return self.bicep["main.bicep"]

    def module_file(self, name: str) -> BicepFile:
        return self.bicep[f"app/{name}.bicep"]


def parse_bicep(path: Path) -> BicepFile:
    text = path.read_text(encoding="utf-8")
    doc = cast(dict[str, Any], _parser().parse(text=text))  # pycep's TypedDict, read as a dict
    return BicepFile(path=path, text=text, doc=doc)


def load_infra(infra_dir: Path = INFRA_DIR, azure_yaml: Path | None = None) -> Infra:
    """Parse every .bicep file under ``infra_dir``; azure.yaml defaults to its sibling."""
    files = {
        path.relative_to(infra_dir).as_posix(): parse_bicep(path)
        for path in sorted(infra_dir.rglob("*.bicep"))
    }
    yaml_path = azure_yaml or infra_dir.parent / "azure.yaml"
    return Infra(
        root=infra_dir,
        bicep=files,
        parameters_json=json.loads((infra_dir / "main.parameters.json").read_text("utf-8")),
        abbreviations=json.loads((infra_dir / "abbreviations.json").read_text("utf-8")),
        azure_yaml=read_azure_yaml(yaml_path) if yaml_path.exists() else {},
    )


def read_azure_yaml(path: Path) -> dict[str, Any]:
    """Read the block-mapping subset of YAML that azure.yaml uses (no PyYAML in the dev venv).

    Nested mappings by indentation, ``key: scalar`` leaves, ``#`` comments. Anything else
    (lists, flow style, multi-line scalars) raises ValueError naming the line, so the test fails
    loudly instead of reading a file it does not understand.
    """
    root: dict[str, Any] = {}
    stack: list[tuple[int, dict[str, Any]]] = [(-1, root)]
    for number, raw in enumerate(path.read_text("utf-8").splitlines(), start=1):
        line = raw.split(" #", 1)[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip(" "))
        key, sep, value = line.strip().partition(":")
        if not sep or not key or key.startswith(("-", "[", "{")):
            raise ValueError(f"{path.name}:{number}: unsupported YAML: {raw!r}")
        while stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1]
        value = value.strip()
        if value:
            if value[0] in "[{|>&*!":
                raise ValueError(f"{path.name}:{number}: unsupported YAML value: {raw!r}")
            parent[key] = value.strip("'\"")
        else:
            child: dict[str, Any] = {}
            parent[key] = child
            stack.append((indent, child))
    return root
