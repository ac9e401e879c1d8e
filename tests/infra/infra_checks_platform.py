"""Contract checks for Key Vault, storage, roles, secrets, main.bicep wiring and azd files."""

from __future__ import annotations

import re
from typing import Any

from tests.infra.infra_check_tools import (
    EXPECTED_ROLES,
    check,
    expect,
    get,
    single,
)
from tests.infra.infra_model import Infra, body, is_reference, render

__all__: list[str] = []  # checks register themselves in infra_check_tools.CHECKS

# --- Key Vault, storage, roles ------------------------------------------------------------


@check
def check_key_vault_rbac(infra: Infra) -> list[str]:
    problems: list[str] = []
    vault = single(infra.module_file("keyvault"), "Microsoft.KeyVault/vaults", problems)
    props = vault.get("properties", {})
    expect(problems, props.get("enableRbacAuthorization") is True, "Key Vault must use RBAC")
    expect(problems, "accessPolicies" not in props, "Key Vault must not use access policies")
    expect(problems, props.get("enableSoftDelete") is True, "Key Vault soft delete must be on")
    for bicep in infra.bicep.values():
        for symbol, secret in bicep.resources_of_type("Microsoft.KeyVault/vaults/secrets"):
            name = bicep.resolve(secret.get("name"))
            expect(
                problems,
                not str(name).startswith(("host--", "function--")),
                f"{symbol}: the host owns host--/function-- secrets; never create them",
            )
    return problems


@check
def check_storage_hardening(infra: Infra) -> list[str]:
    problems: list[str] = []
    storage = single(infra.module_file("storage"), "Microsoft.Storage/storageAccounts", problems)
    props = storage.get("properties", {})
    expect(problems, props.get("minimumTlsVersion") == "TLS1_2", "storage TLS must be 1.2")
    expect(problems, props.get("supportsHttpsTrafficOnly") is True, "storage must be HTTPS only")
    expect(problems, props.get("allowBlobPublicAccess") is False, "no public blob access")
    shared = body(infra.main.modules["storage"])["params"].get("allowSharedKeyAccess")
    expect(
        problems,
        render(shared) == "hostingPlan == 'consumption'",
        "shared-key storage access must be on for Linux Consumption only",
    )
    return problems


@check
def check_role_assignments(infra: Infra) -> list[str]:
    problems: list[str] = []
    rbac = infra.module_file("rbac")
    roles = rbac.resolve(rbac.variables.get("roles", {}).get("value")) or {}
    granted: set[tuple[str, str, str]] = set()
    for symbol, assignment in rbac.resources_of_type("Microsoft.Authorization/roleAssignments"):
        props = assignment.get("properties", {})
        role = get(
            props,
            "roleDefinitionId",
            "function",
            "parameters",
            "resource_name_1",
            "operator",
            "operands",
            "operand_2",
        )
        if not isinstance(role, str):
            problems.append(
                f"{symbol}: roleDefinitionId must be subscriptionResourceId(..., roles.x)"
            )
            continue
        granted.add((str(role), str(props.get("principalId")), str(assignment.get("scope"))))
        if props.get("principalId") != "userPrincipalId":
            expect(
                problems,
                props.get("principalType") == "ServicePrincipal",
                f"{symbol}: managed identities need principalType ServicePrincipal",
            )
    for key, (role_id, principal, scope) in EXPECTED_ROLES.items():
        expect(problems, roles.get(key) == role_id, f"role {key} must have id {role_id}")
        expect(
            problems,
            (key, principal, scope) in granted,
            f"missing role assignment {key} for {principal} on {scope}",
        )
    return problems


# --- Secrets and URLs ---------------------------------------------------------------------


_SECRET_OUTPUT = re.compile(
    r"listkeys|listconnectionstrings|connectionstring|password|accountkey", re.IGNORECASE
)


@check
def check_outputs_carry_no_secrets(infra: Infra) -> list[str]:
    problems: list[str] = []
    for name, bicep in infra.bicep.items():
        secure = {
            p
            for p, spec in bicep.parameters.items()
            if any(d["type"] == "secure" for d in spec.get("decorators", []))
        }
        for output, spec in bicep.outputs.items():
            text = repr(spec.get("value"))
            allowed = (
                name == "app/monitoring.bicep" and output == "applicationInsightsConnectionString"
            )
            if _SECRET_OUTPUT.search(text) and not allowed:
                problems.append(f"{name}: output {output} exposes a key or connection string")
            if any(re.search(rf"\b{re.escape(p)}\b", text) for p in secure):
                problems.append(f"{name}: output {output} exposes a @secure() parameter")
    for output in infra.main.outputs:
        expect(
            problems,
            not re.search(r"CONNECTION|PASSWORD|ACCESS_KEY", output),
            f"main.bicep output {output} looks like a secret",
        )
    return problems


# `code=` must be followed by a Key Vault reference; in comments a <placeholder> or a closing
# backtick (prose about the parameter) is fine too.
_CODE_PARAM = re.compile(r"code=(?!\{@Microsoft\.KeyVault\(SecretUri=|<|`)")


@check
def check_no_plain_urls_or_keys(infra: Infra) -> list[str]:
    problems: list[str] = []
    for name, bicep in infra.bicep.items():
        for number, line in enumerate(bicep.text.splitlines(), start=1):
            if "http://" in line:
                problems.append(f"{name}:{number}: plain http:// URL")
            if _CODE_PARAM.search(line):
                problems.append(f"{name}:{number}: code= not taken from a Key Vault reference")
    return problems


# --- main.bicep wiring and azd files ------------------------------------------------------


@check
def check_main_wiring(infra: Infra) -> list[str]:
    problems: list[str] = []
    main = infra.main
    expect(problems, main.target_scope == "subscription", "main.bicep must target the subscription")
    used = {module.get("detail", {}).get("path") for module in main.modules.values()}
    for path in infra.bicep:
        if path.startswith("app/"):
            expect(problems, f"./{path}" in used, f"{path} is not used by main.bicep")
    chat_url = main.outputs.get("CHAT_URL", {}).get("value")
    expect(
        problems,
        type(chat_url) is str
        and chat_url.endswith("/api/index")
        and chat_url.startswith("${api.outputs.uri}"),
        "CHAT_URL must be <app uri>/api/index",
    )
    for output in ("AZURE_LOCATION", "AZURE_TENANT_ID", "SERVICE_API_NAME"):
        expect(problems, output in main.outputs, f"main.bicep must output {output}")
    return problems


@check
def check_azd_files(infra: Infra) -> list[str]:
    problems: list[str] = []
    api = infra.azure_yaml.get("services", {}).get("api", {})
    expected = {"project": ".", "language": "python", "host": "function"}
    expect(problems, api == expected, f"azure.yaml services.api must be {expected}, found {api}")
    declared = infra.main.parameters
    given = infra.parameters_json.get("parameters", {})
    for name in given:
        expect(problems, name in declared, f"main.parameters.json sets unknown parameter {name}")
    for name, spec in declared.items():
        if spec.get("default") is None:
            expect(problems, name in given, f"required parameter {name} missing from parameters")
    for name, env in (("environmentName", "${AZURE_ENV_NAME}"), ("location", "${AZURE_LOCATION}")):
        expect(problems, get(given, name, "value") == env, f"{name} must come from {env}")
    for key in re.findall(r"abbrs\.([A-Za-z]+)", infra.main.text):
        expect(problems, key in infra.abbreviations, f"abbreviations.json lacks {key}")
    return problems


# --- What a Bicep compiler would refuse: unknown symbols, module params and outputs -----------

# Functions that may start an expression without being declared in the file.
BUILTINS = {
    "deployment",
    "environment",
    "resourceGroup",
    "subscription",
    "tenant",
    "utcNow",
}
_INTERPOLATED = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")
_OUTPUT_REFERENCE = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\.outputs\.([A-Za-z_][A-Za-z0-9_]*)")


def _walk_symbols(value: Any, found: set[str], accessors: list[str]) -> None:
    """Collect the first identifier of every reference, and every ``a.b.c`` chain, in ``value``."""
    if is_reference(value):
        found.add(str(value))
    elif type(value) is str:
        found.update(_INTERPOLATED.findall(value))
        accessors.append(value)
    elif isinstance(value, dict):
        node = value.get("operator") if set(value) == {"operator"} else None
        if isinstance(node, dict) and node.get("type") == "property_accessor":
            accessors.append(render(value))
            _walk_symbols(node["operands"]["operand_1"], found, accessors)
            return
        for item in value.values():
            _walk_symbols(item, found, accessors)
    elif isinstance(value, list):
        for item in value:
            _walk_symbols(item, found, accessors)


@check
def check_references_are_declared(infra: Infra) -> list[str]:
    problems: list[str] = []
    for name, bicep in infra.bicep.items():
        declared = set(bicep.parameters) | set(bicep.variables) | set(bicep.modules)
        declared |= {symbol.split("__")[-1] for symbol in bicep.resources} | set(bicep.resources)
        found: set[str] = set()
        sections = [bicep.resources, bicep.modules, bicep.variables, bicep.outputs]
        sections.append({p: s.get("default") for p, s in bicep.parameters.items()})
        for section in sections:
            _walk_symbols(section, found, [])
        for symbol in sorted(found - declared - BUILTINS):
            problems.append(f"{name}: '{symbol}' is not declared")
    return problems


@check
def check_module_wiring(infra: Infra) -> list[str]:
    problems: list[str] = []
    main = infra.main
    files = {symbol: m.get("detail", {}).get("path", "") for symbol, m in main.modules.items()}
    for symbol, path in files.items():
        target = infra.bicep.get(path.removeprefix("./"))
        if target is None:
            problems.append(f"module {symbol}: {path} not found")
            continue
        given = body(main.modules[symbol]).get("params", {})
        for param in sorted(set(given) - set(target.parameters)):
            problems.append(f"module {symbol}: {path} has no parameter {param}")
        for param, spec in target.parameters.items():
            if spec.get("default") is None and param not in given:
                problems.append(f"module {symbol}: required parameter {param} not passed")
    accessors: list[str] = []
    _walk_symbols([main.modules, main.outputs], set(), accessors)
    for text in accessors:
        for module, output in _OUTPUT_REFERENCE.findall(text):
            target = infra.bicep.get(files.get(module, "").removeprefix("./"))
            if target is None or output not in target.outputs:
                problems.append(f"main.bicep uses {module}.outputs.{output}, which is not declared")
    return problems
