"""The deployment contract of infra/ holds on the real files (pycep-parser, no Bicep compiler).

No Bicep CLI can be installed offline (every wrapper downloads it), so these structural checks
stand in for the compiler on what matters: Serverless mode, the upstream's Key Vault reference and
managed-identity auth, role ids, hardening and no secret in outputs.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.infra.infra_contract import CHECKS, EXPECTED_ROLES, SYSTEM_KEY_SECRET, run_all
from tests.infra.infra_model import INFRA_DIR, Infra, body, parse_bicep, render

EXPECTED_CHECKS = {
    "signalr_serverless_mode",
    "signalr_upstream_key_vault_reference",
    "signalr_upstream_managed_identity_auth",
    "signalr_identity_and_sku",
    "signalr_cors_allows_app_origin",
    "function_app_hardening",
    "function_app_runtime_and_plan",
    "function_app_settings",
    "function_app_service_tag",
    "app_service_auth",
    "key_vault_rbac",
    "storage_hardening",
    "role_assignments",
    "outputs_carry_no_secrets",
    "no_plain_urls_or_keys",
    "main_wiring",
    "azd_files",
    "references_are_declared",
    "module_wiring",
}


def test_infra_contract_registers_every_check() -> None:
    assert set(CHECKS) == EXPECTED_CHECKS


@pytest.mark.parametrize("name", sorted(EXPECTED_CHECKS))
def test_infra_contract_holds(infra: Infra, name: str) -> None:
    assert CHECKS[name](infra) == []


def test_infra_bicep_files_all_parse() -> None:
    files = sorted(INFRA_DIR.rglob("*.bicep"))
    names = {path.relative_to(INFRA_DIR).as_posix() for path in files}
    assert names == {
        "main.bicep",
        "app/api.bicep",
        "app/keyvault.bicep",
        "app/monitoring.bicep",
        "app/rbac.bicep",
        "app/signalr.bicep",
        "app/storage.bicep",
    }
    for path in files:
        doc = parse_bicep(path).doc
        assert doc.get("resources") or doc.get("modules"), path


def test_signalr_upstream_url_resolves_to_the_system_key_secret(infra: Infra) -> None:
    signalr = infra.module_file("signalr")
    template = signalr.resource_body("signalR")["properties"]["upstream"]["templates"][0]
    assert signalr.resolve(template["urlTemplate"]) == (
        "https://${functionAppHostName}/runtime/webhooks/signalr"
        "?code={@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/"
        f"{SYSTEM_KEY_SECRET}/)}}"
    )


def test_signalr_system_key_secret_name_is_output_for_deploy_script(infra: Infra) -> None:
    output = infra.main.outputs["SIGNALR_KEY_SECRET_NAME"]["value"]
    assert render(output) == "signalR.outputs.systemKeySecretName"
    signalr = infra.module_file("signalr")
    assert signalr.resolve(signalr.outputs["systemKeySecretName"]["value"]) == SYSTEM_KEY_SECRET


def test_role_assignments_cover_every_expected_role(infra: Infra) -> None:
    rbac = infra.module_file("rbac")
    roles = rbac.resolve(rbac.variables["roles"]["value"])
    assert {key: roles[key] for key in EXPECTED_ROLES} == {
        key: role_id for key, (role_id, _, _) in EXPECTED_ROLES.items()
    }


def test_function_app_auth_secret_sets_content_type(infra: Infra) -> None:
    api = infra.module_file("api")
    secret = api.resource_body("authSecret")
    assert api.condition("authSecret") == "useAuthSecret"
    assert secret["properties"]["contentType"] == "text/plain"
    assert not secret["name"].startswith("host--")


def test_main_defaults_match_the_brief(infra: Infra) -> None:
    params = infra.main.parameters
    assert params["hostingPlan"]["default"] == "consumption"
    assert params["signalRSku"]["default"] == "Standard_S1"
    assert params["enableAppServiceAuth"]["default"] is False
    assert infra.main.resolve(body(infra.main.modules["signalR"])["params"]["hubName"]) == "chat"


def test_run_all_reports_nothing_on_real_infra(infra: Infra) -> None:
    assert run_all(infra) == {}


def test_infra_readme_documents_every_azd_variable(infra: Infra) -> None:
    readme = (INFRA_DIR / "README.md").read_text(encoding="utf-8")
    variables = set(re.findall(r"\$\{([A-Z_]+)", json.dumps(infra.parameters_json)))
    assert variables >= {"AZURE_ENV_NAME", "AZURE_LOCATION", "HOSTING_PLAN", "SIGNALR_SKU"}
    documented = {"AZURE_ENV_NAME", "AZURE_LOCATION"}  # azd asks for these itself
    assert [v for v in sorted(variables - documented) if f"`{v}`" not in readme] == []


def test_infra_cites_only_public_sources() -> None:
    """A clone has no project notes: infra/ and tests/infra cite public pages and repositories."""
    private = ("shared/" + "reference", "/work/" + "shared")
    roots = (INFRA_DIR, INFRA_DIR.parent / "tests" / "infra")
    suffixes = {".py", ".md", ".bicep", ".sh", ".yaml"}
    files = [p for root in roots for p in root.rglob("*") if p.suffix in suffixes]
    cited = [str(p) for p in files if any(text in p.read_text("utf-8") for text in private)]
    assert len(files) > 20
    assert cited == []
