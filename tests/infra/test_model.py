"""The small evaluator under the infra checks: references, interpolation, azure.yaml subset."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.infra.infra_model import BicepFile, read_azure_yaml, render

SOURCE = """
param hub string = 'chat'
param host string
var secretName = 'host--systemKey--x'
var url = 'https://${host}/x?code=${secretName}&hub=${hub}'
var alias = url
resource r 'A.B/c@2024-01-01' = if (hub == 'chat') {
  name: 'r'
  properties: {
    a: alias
    b: resourceX.outputs.uri
  }
}
"""


@pytest.fixture
def bicep(tmp_path: Path) -> BicepFile:
    from tests.infra.infra_model import parse_bicep

    path = tmp_path / "probe.bicep"
    path.write_text(SOURCE, encoding="utf-8")
    return parse_bicep(path)


def test_bicep_file_resolves_variables_and_defaults(bicep: BicepFile) -> None:
    props = bicep.resource_body("r")["properties"]
    assert bicep.resolve(props["a"]) == "https://${host}/x?code=host--systemKey--x&hub=${hub}"


def test_bicep_file_leaves_parameters_unexpanded_inside_strings(bicep: BicepFile) -> None:
    # Only variables are substituted in interpolation: a parameter can be overridden at deploy.
    assert "${hub}" in bicep.resolve(bicep.variables["url"]["value"])


def test_bicep_file_keeps_unresolvable_references(bicep: BicepFile) -> None:
    props = bicep.resource_body("r")["properties"]
    assert render(props["b"]) == "resourceX.outputs.uri"
    assert bicep.resolve("host") == "host"  # a literal string is not a reference


def test_bicep_file_reports_resource_condition(bicep: BicepFile) -> None:
    assert render(bicep.condition("r")) == "hub == 'chat'"


def test_read_azure_yaml_reads_nested_mappings(tmp_path: Path) -> None:
    path = tmp_path / "azure.yaml"
    path.write_text("# c\nname: x\nservices:\n  api:\n    host: function  # c\n", "utf-8")
    assert read_azure_yaml(path) == {"name": "x", "services": {"api": {"host": "function"}}}


@pytest.mark.parametrize("text", ["services:\n  - api\n", "hooks: [a]\n", "run: |\n  x\n"])
def test_read_azure_yaml_rejects_unsupported_yaml(tmp_path: Path, text: str) -> None:
    path = tmp_path / "azure.yaml"
    path.write_text(text, "utf-8")
    with pytest.raises(ValueError, match="unsupported YAML"):
        read_azure_yaml(path)
