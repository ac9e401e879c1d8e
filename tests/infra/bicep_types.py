"""Bicep's own type data (Azure/bicep-types-az ``types.json``), loaded for the offline type check.

Each ``types.json`` is a flat list of type nodes that point at each other with ``{"$ref": "#/N"}``
inside the same file. A ``ResourceType`` node names a resource type and API version
(``Microsoft.Web/sites@2024-04-01``) and points at the body's ``ObjectType`` (or, for bodies
chosen by ``name`` such as ``sites/config``, a ``DiscriminatedObjectType``).

The data lives in ``tests/infra/bicep_types/`` with its LICENSE and a SOURCE file that names the
commit, the upstream path and the sha256 of every copy.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

__all__ = [
    "FLAG_READ_ONLY",
    "FLAG_REQUIRED",
    "SCOPE_EXTENSION",
    "SCOPE_TENANT",
    "TYPE_DATA_DIR",
    "ResourceTypeData",
    "TypeIndex",
    "TypeNode",
    "load_type_index",
    "source_entries",
]

TYPE_DATA_DIR = Path(__file__).resolve().parent / "bicep_types"

# ObjectTypePropertyFlags in Azure/bicep-types (src/bicep-types/src/types.ts).
FLAG_REQUIRED = 1
FLAG_READ_ONLY = 2

# ScopeType bits of readableScopes / writableScopes (same file).
SCOPE_TENANT = 1
SCOPE_EXTENSION = 16


@dataclass(frozen=True, eq=False)
class TypeNode:
    """One node of one ``types.json``; ``follow`` resolves the ``$ref``s it holds."""

    nodes: tuple[dict[str, Any], ...]
    index: int

    @property
    def data(self) -> dict[str, Any]:
        return self.nodes[self.index]

    @property
    def kind(self) -> str:
        return str(self.data["$type"])

    def follow(self, reference: dict[str, str]) -> TypeNode:
        return TypeNode(self.nodes, int(reference["$ref"].rsplit("/", 1)[1]))

    def properties(self) -> dict[str, tuple[TypeNode, int]]:
        """``{name: (type, flags)}`` of an ``ObjectType``."""
        return {
            name: (self.follow(prop["type"]), int(prop.get("flags", 0)))
            for name, prop in self.data.get("properties", {}).items()
        }

    def additional_properties(self) -> TypeNode | None:
        extra = self.data.get("additionalProperties")
        return self.follow(extra) if extra else None

    def members(self) -> list[TypeNode]:
        """The elements of a ``UnionType``."""
        return [self.follow(element) for element in self.data.get("elements", [])]

    def variants(self) -> dict[str, TypeNode]:
        """``{discriminator value: ObjectType}`` of a ``DiscriminatedObjectType``."""
        return {key: self.follow(ref) for key, ref in self.data.get("elements", {}).items()}

    def base_properties(self) -> dict[str, tuple[TypeNode, int]]:
        """The properties every variant of a ``DiscriminatedObjectType`` shares."""
        return {
            name: (self.follow(prop["type"]), int(prop.get("flags", 0)))
            for name, prop in self.data.get("baseProperties", {}).items()
        }

    def describe(self) -> str:
        """The type as Bicep prints it in a diagnostic: ``'a' | 'b' | string``, ``Sku``, ``int``."""
        kind = self.kind
        if kind == "StringLiteralType":
            return f"'{self.data['value']}'"
        if kind == "UnionType":
            return " | ".join(member.describe() for member in self.members())
        if kind == "ArrayType":
            return f"{self.follow(self.data['itemType']).describe()}[]"
        if kind in ("ObjectType", "DiscriminatedObjectType"):
            return str(self.data.get("name", "object"))
        return _PRIMITIVE_NAMES.get(kind, kind)


_PRIMITIVE_NAMES = {
    "StringType": "string",
    "IntegerType": "int",
    "BooleanType": "bool",
    "AnyType": "any",
    "NullType": "null",
}


@dataclass(frozen=True)
class ResourceTypeData:
    """A ``ResourceType`` node: the name with its version, the body, the scopes it may live at."""

    name: str
    body: TypeNode
    scopes: int  # readableScopes | writableScopes, as Bicep combines them
    source: str  # the local file it came from, for messages


@dataclass(frozen=True)
class TypeIndex:
    """Every resource type in the copied data, keyed case-insensitively as Bicep looks them up."""

    resources: dict[str, ResourceTypeData]
    files: tuple[str, ...]

    def find(self, resource_type: str, api_version: str) -> ResourceTypeData | None:
        return self.resources.get(f"{resource_type}@{api_version}".lower())


def source_entries(directory: Path = TYPE_DATA_DIR) -> Iterator[tuple[str, str, str]]:
    """``(local file, sha256, upstream path)`` for each line of the SOURCE file."""
    for line in (directory / "SOURCE").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, digest, upstream = line.split()
            yield name, digest, upstream


@cache
def load_type_index(directory: Path = TYPE_DATA_DIR) -> TypeIndex:
    """Read every ``*.json`` under ``directory`` (cached: the data is read-only)."""
    resources: dict[str, ResourceTypeData] = {}
    files = sorted(directory.glob("*.json"))
    for path in files:
        nodes = tuple(json.loads(path.read_text(encoding="utf-8")))
        for index, node in enumerate(nodes):
            if node["$type"] != "ResourceType":
                continue
            scopes = int(node.get("readableScopes", 0)) | int(node.get("writableScopes", 0))
            body = TypeNode(nodes, index).follow(node["body"])
            resources[node["name"].lower()] = ResourceTypeData(
                node["name"], body, scopes, path.name
            )
    return TypeIndex(resources, tuple(path.name for path in files))
