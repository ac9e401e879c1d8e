"""The Bicep type check, case by case, on small probe files: each diagnostic and each keyword.

Every case states what Azure/bicep reports for the same source (TypeValidator.cs), so a case that
passes here for the wrong reason would also disagree with the compiler.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.infra.bicep_resource_check import TypeReport, check_file
from tests.infra.bicep_types import load_type_index
from tests.infra.infra_model import parse_bicep

VAULT_BODY = """
  name: 'kv-probe'
  location: 'westeurope'
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
  }
"""


def check(tmp_path: Path, source: str) -> TypeReport:
    path = tmp_path / "probe.bicep"
    path.write_text(source, encoding="utf-8")
    return check_file(parse_bicep(path), "probe.bicep", load_type_index())


def codes(report: TypeReport) -> list[tuple[int, str, str, str]]:
    """(line, path, code, level) of each finding, in line order."""
    return sorted((f.line, f.path, f.code, f.level) for f in report.findings)


def vault(body: str = "", extra: str = "") -> str:
    """A valid vault with ``extra`` top-level lines first; ``body`` replaces its properties."""
    properties = VAULT_BODY.lstrip("\n")
    properties = properties if not body else properties.split("  properties:")[0] + body
    return f"resource kv 'Microsoft.KeyVault/vaults@2023-07-01' = {{\n{extra}{properties}}}\n"


def test_type_check_passes_a_correct_resource(tmp_path: Path) -> None:
    report = check(tmp_path, vault())
    assert codes(report) == []
    assert report.checked >= 4  # name, location, family, name
    assert [(s.path, s.expression) for s in report.skipped] == [
        ("properties.tenantId", "tenant().tenantId")
    ]


PROPERTIES = "  properties: {\n    tenantId: tenant().tenantId\n    sku: {\n      family: 'A'\n"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # Unknown: an error at the top level, a warning deeper down (BCP037, or BCP089 when
        # Bicep can suggest a property that is not set yet: "name" is set, "tags" is not).
        (vault(extra="  nmae: 'x'\n"), (2, "nmae", "BCP037", "error")),
        (vault(extra="  tagz: {}\n"), (2, "tagz", "BCP089", "error")),
        (vault(PROPERTIES + "      name: 'standard'\n    }\n    bogus: true\n  }\n"),
         (10, "properties.bogus", "BCP037", "warning")),
        # Read-only: a system property is an error, a resource property a warning (BCP073).
        (vault(extra="  id: 'x'\n"), (2, "id", "BCP073", "error")),
        (vault(PROPERTIES + "      name: 'standard'\n    }\n    hsmPoolResourceId: 'x'\n  }\n"),
         (10, "properties.hsmPoolResourceId", "BCP073", "warning")),
        # Outside a closed enum ('standard' | 'premium'); a wrong type (BCP036).
        (vault().replace("name: 'standard'", "name: 'basic'"),
         (8, "properties.sku.name", "BCP036", "warning")),
        (vault(PROPERTIES + "      name: 'standard'\n    }\n    enableSoftDelete: 'yes'\n  }\n"),
         (10, "properties.enableSoftDelete", "BCP036", "warning")),
        # A wrong type for the system property "name" is an error.
        (vault().replace("name: 'kv-probe'", "name: 42"), (2, "name", "BCP036", "error")),
        # A property Bicep knows for every resource, missing from this type's data (BCP187).
        (vault(extra="  kind: 'vault'\n"), (2, "kind", "BCP187", "warning")),
    ],
)
def test_type_check_reports_what_bicep_reports(tmp_path: Path, source: str, expected) -> None:
    assert codes(check(tmp_path, source)) == [expected]


def test_type_check_reports_missing_required_properties(tmp_path: Path) -> None:
    report = check(
        tmp_path,
        "resource kv 'Microsoft.KeyVault/vaults@2023-07-01' = {\n"
        "  location: 'westeurope'\n"
        "  properties: {\n"
        "    sku: {\n"
        "      name: 'standard'\n"
        "    }\n"
        "  }\n"
        "}\n",
    )
    assert codes(report) == [
        # "name" is a system property, so Bicep makes the resource-level BCP035 an error.
        (1, "", "BCP035", "error"),
        (3, "properties", "BCP035", "warning"),
        (4, "properties.sku", "BCP035", "warning"),
    ]
    messages = {finding.path: finding.message for finding in report.findings}
    assert messages[""].endswith('required properties: "name".')
    assert messages["properties"].endswith('required properties: "tenantId".')
    assert messages["properties.sku"].endswith('required properties: "family".')


def test_type_check_pattern_and_range(tmp_path: Path) -> None:
    source = f"""
{vault().replace("kv-probe", "kv_probe")}
resource s 'Microsoft.SignalRService/signalR@2024-03-01' = {{
  name: 'sigr-probe'
  location: 'westeurope'
  properties: {{
    serverless: {{
      connectionTimeoutInSeconds: 0
    }}
  }}
}}
"""
    assert codes(check(tmp_path, source)) == [
        (3, "name", "BCP416", "warning"),
        (19, "properties.serverless.connectionTimeoutInSeconds", "BCP328", "warning"),
    ]


def test_type_check_uses_parameter_types(tmp_path: Path) -> None:
    """@allowed values are each checked; a parameter without them may fill an enum; bounds."""
    source = """
@allowed(['standard', 'basic'])
param skuName string
param family string
@minValue(1)
@maxValue(300)
param timeout int
param label string
resource kv 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: 'kv-probe'
  location: 'westeurope'
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: family
      name: skuName
    }
  }
}
resource s 'Microsoft.SignalRService/signalR@2024-03-01' = {
  name: 'sigr-probe'
  location: 'westeurope'
  properties: {
    publicNetworkAccess: '${label}-x'
    serverless: {
      connectionTimeoutInSeconds: timeout
    }
  }
}
"""
    assert codes(check(tmp_path, source)) == [
        (16, "properties.sku.name", "BCP036", "warning"),  # 'basic' is not allowed
        (26, "properties.serverless.connectionTimeoutInSeconds", "BCP330", "warning"),
    ]


def test_type_check_interpolated_string_cannot_fill_closed_enum(tmp_path: Path) -> None:
    source = "param tier string\n" + vault().replace("name: 'standard'", "name: '${tier}'")
    assert codes(check(tmp_path, source)) == [(9, "properties.sku.name", "BCP036", "warning")]


def test_type_check_checks_both_branches_of_a_condition(tmp_path: Path) -> None:
    source = """
param cool bool
resource st 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: 'stprobe'
  location: 'westeurope'
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: cool ? 'Cool' : 'Warm'
    allowBlobPublicAccess: cool ? null : false
  }
}
"""
    report = check(tmp_path, source)
    assert codes(report) == [(11, "properties.accessTier", "BCP036", "warning")]
    assert "'Warm'" in report.findings[0].message


def test_type_check_handles_existing_resources(tmp_path: Path) -> None:
    """existing: name, scope, parent and dependsOn only; anything else is BCP173."""
    source = """
resource kv 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: 'kv-probe'
  scope: resourceGroup('other')
}
resource kv2 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: 'kv-probe'
  location: 'westeurope'
}
"""
    assert codes(check(tmp_path, source)) == [(8, "location", "BCP173", "error")]


def test_type_check_handles_scope_parent_and_depends_on(tmp_path: Path) -> None:
    source = """
resource kv 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: 'kv-probe'
}
resource role 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: kv
  name: guid('probe')
  dependsOn: [
    kv
  ]
  properties: {
    principalId: 'p'
    roleDefinitionId: 'r'
  }
}
resource secret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: kv
  name: 'probe'
  properties: {
    value: 'v'
  }
}
resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  scope: resourceGroup('other')
  parent: kv
  name: 'kv-probe2'
  location: 'westeurope'
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
  }

  resource nested 'secrets' = {
    parent: kv
    name: 'nested'
    properties: {}
  }
}
"""
    assert codes(check(tmp_path, source)) == [
        (24, "scope", "BCP037", "error"),  # a resource-group resource deploys where its file does
        (25, "parent", "BCP037", "error"),  # vaults is not a child type
        (37, "parent", "BCP037", "error"),  # a nested child has its parent already
    ]


def test_type_check_picks_the_body_by_name(tmp_path: Path) -> None:
    """sites/config: the name chooses the body (appsettings, web, ...)."""
    source = """
resource site 'Microsoft.Web/sites@2024-04-01' existing = {
  name: 'func-probe'
}
resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: {
    ANY_SETTING: 'value'
  }
}
resource web 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'web'
  properties: {
    http20Enabled: true
    ftpState: 'Disabled'
  }
}
resource other 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'websettings'
}
"""
    report = check(tmp_path, source)
    assert codes(report) == [
        (17, "properties.ftpState", "BCP089", "warning"),
        # A warning although name is a system property: Bicep does not block on it, in case its
        # types lag the provider. It suggests the nearest name, here appsettings.
        (22, "name", "BCP088", "warning"),
    ]
    assert 'Did you mean "ftpsState"?' in report.findings[0].message
    assert "'appsettings' | " in report.findings[1].message


def test_type_check_checks_conditional_and_loop_bodies(tmp_path: Path) -> None:
    source = """
param names array
param on bool
resource cond 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (on) {
  name: 'kv/one'
  properties: {
    valu: 'x'
  }
}
resource many 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = [for (n, i) in names: {
  name: 'kv/${n}'
  properties: {
    value: n
    contentTyp: 'text/plain'
  }
}]
"""
    report = check(tmp_path, source)
    assert codes(report) == [
        (7, "properties.valu", "BCP089", "warning"),
        (14, "properties.contentTyp", "BCP089", "warning"),
    ]
    assert [(s.line, s.path, s.expression) for s in report.skipped] == [
        (13, "properties.value", "n")  # the loop item is known only at deployment
    ]


def test_type_check_reports_missing_type_data(tmp_path: Path) -> None:
    source = "resource x 'Microsoft.KeyVault/vaults@2099-01-01' = {\n  name: 'x'\n}\n"
    report = check(tmp_path, source)
    assert codes(report) == [(1, "", "BCP081", "warning")]
    assert "Microsoft.KeyVault/vaults@2099-01-01" in report.findings[0].message


def test_type_check_null_only_where_optional(tmp_path: Path) -> None:
    source = vault().replace(
        "    tenantId: tenant().tenantId\n",
        "    tenantId: null\n    enablePurgeProtection: null\n",
    )
    assert codes(check(tmp_path, source)) == [(5, "properties.tenantId", "BCP036", "warning")]


def test_type_check_reports_a_property_written_twice(tmp_path: Path) -> None:
    """pycep keeps the last of two equal keys; Bicep refuses both (BCP025), and so does this."""
    source = vault().replace("  location: 'westeurope'\n", "  location: 'westeurope'\n" * 2)
    source += "param on bool\nvar sku = on ? {\n  name: 'a'\n} : {\n  name: 'b'\n}\n"
    report = check(tmp_path, source)
    assert codes(report) == [(3, "location", "BCP025", "error"), (4, "location", "BCP025", "error")]
    assert str(report.findings[0]).startswith("probe.bicep:3: kv location: BCP025 (error) ")
