"""infra/ passes the Bicep type check, and a broken copy of each module fails it.

The check (bicep_resource_check) reads every resource against Bicep's own type data copied from
Azure/bicep-types-az into tests/infra/bicep_types/, and reports what ``bicep build`` would: an
unknown property, a read-only property set, a required one missing, a value the type does not
allow, a type and API version with no type data. The run prints what it covered at the end of
the test session.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.infra.bicep_resource_check import TypeReport, check_infra
from tests.infra.bicep_types import FLAG_READ_ONLY, TypeNode, load_type_index
from tests.infra.infra_model import INFRA_DIR, Infra, load_infra
from tests.infra.infra_type_mutations import KINDS, TYPE_MUTATIONS

# Modules with no value mutation, and the resource types that make it impossible (see
# infra_type_mutations).
NO_VALUE_MUTATION = {
    "main": "Microsoft.Resources/resourceGroups@2024-03-01",
    "rbac": "Microsoft.Authorization/roleAssignments@2022-04-01",
}
# Deploy-time values the check cannot know: resource properties and deployment functions.
DEPLOYMENT_VALUE = re.compile(r"^(?:[a-zA-Z]+\.(?:id|name|properties\.[\w.]+)|\w+\(\)\.\w+)$")


@pytest.fixture(scope="module")
def report() -> TypeReport:
    return check_infra(load_infra(INFRA_DIR), load_type_index())


def test_bicep_types_hold_on_infra(report: TypeReport, record_summary: Callable[[str], None]):
    record_summary(report.summary())
    assert [str(finding) for finding in report.findings] == []


def test_bicep_types_check_every_resource(report: TypeReport, infra: Infra) -> None:
    declared = sum(len(bicep.resources) for bicep in infra.bicep.values())
    assert report.resources == declared > 20
    assert report.checked > 50  # literals compared with the type data


def test_bicep_types_skip_only_deployment_values(report: TypeReport) -> None:
    """What is skipped is only known once Azure has deployed something, and is listed."""
    assert report.skipped, "the summary must count skipped expressions; none were found"
    assert [str(s) for s in report.skipped if not DEPLOYMENT_VALUE.match(s.expression)] == []
    assert all(re.match(r"infra/\S+\.bicep:\d+: \w+ \S+: ", str(s)) for s in report.skipped)
    assert f"{len(report.skipped)} expressions skipped" in report.summary()


@pytest.mark.parametrize("name", sorted(TYPE_MUTATIONS))
def test_bicep_types_fail_on_broken_copy(make_infra_copy, name: str) -> None:
    mutation = TYPE_MUTATIONS[name]
    infra_dir = make_infra_copy(name)
    mutation.change.apply(infra_dir)
    text = (infra_dir / mutation.change.file).read_text(encoding="utf-8").splitlines()
    (line,) = [number for number, row in enumerate(text, start=1) if mutation.marker in row]

    findings = check_infra(load_infra(infra_dir), load_type_index()).findings

    expected = f"infra/{mutation.change.file}:{line}: {mutation.resource} {mutation.path}".rstrip()
    matching = [str(f) for f in findings if str(f).startswith(f"{expected}: {mutation.code} ")]
    assert matching, "\n".join(str(finding) for finding in findings)


def test_bicep_type_mutations_cover_every_module_and_kind() -> None:
    modules = {path.stem for path in INFRA_DIR.rglob("*.bicep")}
    wanted = {f"{module}_{kind}" for module in modules for kind in KINDS}
    exempt = {f"{module}_wrong_value" for module in NO_VALUE_MUTATION}
    assert set(TYPE_MUTATIONS) == wanted - exempt


@pytest.mark.parametrize("module", sorted(NO_VALUE_MUTATION))
def test_bicep_types_exempt_modules_have_no_limited_value(module: str) -> None:
    """The exemption holds: no writable property of that type limits its values."""
    data = load_type_index().resources[NO_VALUE_MUTATION[module].lower()]
    assert _limited_values(data.body, depth=0) == []


def test_bicep_types_accept_any_string_where_the_type_does(make_infra_copy) -> None:
    """principalType lists known values but allows any string, as Bicep does; ARM decides."""
    infra_dir = make_infra_copy("open_enum")
    path = infra_dir / "app" / "rbac.bicep"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("principalType: 'ServicePrincipal'", "principalType: 'Robot'"))
    assert "'Robot'" in path.read_text(encoding="utf-8")
    assert check_infra(load_infra(infra_dir), load_type_index()).findings == ()


def _limited_values(node: TypeNode, depth: int) -> list[str]:
    """Writable properties, down to a few levels, whose type is a closed enum or has bounds."""
    if depth > 4:
        return []
    if node.kind == "UnionType":
        members = node.members()
        return [] if any(m.kind == "StringType" for m in members) else [node.describe()]
    if node.kind in ("StringType", "IntegerType") and set(node.data) - {"$type", "sensitive"}:
        return [str(node.data)]
    if node.kind == "ArrayType":
        return _limited_values(node.follow(node.data["itemType"]), depth + 1)
    found: list[str] = []
    for name, (child, flags) in node.properties().items():
        if not flags & FLAG_READ_ONLY and name not in ("name", "type", "apiVersion"):
            found += [f"{name}: {item}" for item in _limited_values(child, depth + 1)]
    return found


def test_bicep_types_report_names_file_line_and_path(tmp_path: Path) -> None:
    """The whole message: file, line, resource, property path, code, level, Bicep's text."""
    infra_dir = tmp_path / "infra"
    (infra_dir / "app").mkdir(parents=True)
    for name in ("main.parameters.json", "abbreviations.json"):
        (infra_dir / name).write_text((INFRA_DIR / name).read_text("utf-8"), "utf-8")
    (infra_dir / "main.bicep").write_text(
        "resource kv 'Microsoft.KeyVault/vaults@2023-07-01' = {\n"
        "  name: 'kv-probe'\n"
        "  location: 'westeurope'\n"
        "  properties: {\n"
        "    tenantId: tenant().tenantId\n"
        "    sku: {\n"
        "      family: 'A'\n"
        "      name: 'standard'\n"
        "    }\n"
        "    enableSoftDeleet: true\n"
        "  }\n"
        "}\n",
        "utf-8",
    )
    (finding,) = check_infra(load_infra(infra_dir), load_type_index()).findings
    assert str(finding) == (
        'infra/main.bicep:10: kv properties.enableSoftDeleet: BCP089 (warning) The property '
        '"enableSoftDeleet" is not allowed on objects of type "VaultProperties". '
        'Did you mean "enableSoftDelete"?'
    )
