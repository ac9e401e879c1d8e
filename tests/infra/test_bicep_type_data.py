"""The Bicep type data in tests/infra/bicep_types/ is what SOURCE says it is, and all of it is used.

The files are exact copies from Azure/bicep-types-az (MIT): SOURCE lists, for each, its sha256
and its path in that repository at the commit it names, and LICENSE is that repository's.
"""

from __future__ import annotations

import hashlib

from tests.infra.bicep_types import TYPE_DATA_DIR, load_type_index, source_entries
from tests.infra.infra_model import Infra

UPSTREAM = "https://github.com/Azure/bicep-types-az"


def test_bicep_type_data_matches_source() -> None:
    entries = list(source_entries())
    assert entries, "SOURCE lists no files"
    for name, digest, upstream in entries:
        data = (TYPE_DATA_DIR / name).read_bytes()
        assert (name, hashlib.sha256(data).hexdigest()) == (name, digest)
        provider, _, version = name.removesuffix(".json").partition("@")
        assert upstream.startswith("generated/") and upstream.endswith(
            f"/{provider}/{version}/types.json"
        ), upstream
    listed = {name for name, _, _ in entries}
    assert {path.name for path in TYPE_DATA_DIR.glob("*.json")} == listed


def test_bicep_type_data_names_repository_commit_and_license() -> None:
    source = (TYPE_DATA_DIR / "SOURCE").read_text(encoding="utf-8")
    assert f"repository: {UPSTREAM}" in source
    assert "commit:     1f896de2db966ad91e8f7d7d981e11d32e4f5d8d" in source
    license_text = (TYPE_DATA_DIR / "LICENSE").read_text(encoding="utf-8")
    assert "MIT License" in license_text and "Copyright (c) Microsoft Corporation." in license_text


def test_bicep_type_data_is_all_needed(infra: Infra) -> None:
    """Only the files infra/ uses are copied: each one holds a type infra/ declares."""
    index = load_type_index()
    used = {
        index.find(resource["type"], resource["api_version"])
        for bicep in infra.bicep.values()
        for resource in bicep.resources.values()
    }
    assert None not in used, "a resource has no type data (the type check names it)"
    assert {data.source for data in used if data is not None} == set(index.files)
