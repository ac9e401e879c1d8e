"""Contract checks for the SignalR Service module (infra/app/signalr.bicep)."""

from __future__ import annotations

import re
from typing import Any

from tests.infra.infra_check_tools import (
    KEY_VAULT_REF,
    SYSTEM_KEY_SECRET,
    UPSTREAM_PATH,
    allowed_values,
    check,
    expect,
    get,
    single,
)
from tests.infra.infra_model import BicepFile, Infra, body, render

__all__: list[str] = []  # checks register themselves in infra_check_tools.CHECKS

# --- SignalR Service ----------------------------------------------------------------------


def _signalr(infra: Infra, problems: list[str]) -> tuple[BicepFile, dict[str, Any]]:
    bicep = infra.module_file("signalr")
    return bicep, single(bicep, "Microsoft.SignalRService/signalR", problems)


@check
def check_signalr_serverless_mode(infra: Infra) -> list[str]:
    problems: list[str] = []
    bicep, signalr = _signalr(infra, problems)
    features = get(signalr, "properties", "features") or []
    modes = [
        bicep.resolve(f.get("value"))
        for f in features
        if bicep.resolve(f.get("flag")) == "ServiceMode"
    ]
    expect(problems, modes == ["Serverless"], f"ServiceMode must be Serverless, found {modes}")
    expect(problems, get(signalr, "kind") == "SignalR", "kind must be SignalR")
    return problems


def _upstream_templates(infra: Infra, problems: list[str]) -> tuple[BicepFile, list[Any]]:
    bicep, signalr = _signalr(infra, problems)
    templates = get(signalr, "properties", "upstream", "templates")
    if not isinstance(templates, list) or not templates:
        problems.append("SignalR has no upstream templates")
        return bicep, []
    return bicep, templates


@check
def check_signalr_upstream_key_vault_reference(infra: Infra) -> list[str]:
    problems: list[str] = []
    bicep, templates = _upstream_templates(infra, problems)
    for index, template in enumerate(templates):
        url = bicep.resolve(template.get("urlTemplate"))
        if type(url) is not str:
            problems.append(f"upstream template {index}: urlTemplate does not resolve to text")
            continue
        expected = re.compile(
            r"^https://\$\{functionAppHostName\}"
            + re.escape(f"{UPSTREAM_PATH}?code={KEY_VAULT_REF}")
            + r"\$\{keyVaultUri\}"
            + re.escape(f"secrets/{SYSTEM_KEY_SECRET}/)}}")
            + "$"
        )
        expect(
            problems,
            bool(expected.match(url)),
            f"upstream {index} URL is not the trigger "
            f"webhook with a Key Vault reference to {SYSTEM_KEY_SECRET}: {url}",
        )
        hub = bicep.resolve(template.get("hubPattern"))
        expect(problems, hub == "chat", f"upstream {index} hubPattern must be chat, found {hub}")
    main_params = (
        body(infra.main.modules["signalR"]).get("params", {})
        if "signalR" in infra.main.modules
        else {}
    )
    expect(
        problems,
        render(main_params.get("keyVaultUri")) == "keyVault.outputs.uri",
        "main.bicep must pass keyVault.outputs.uri as the SignalR module's keyVaultUri",
    )
    expect(
        problems,
        render(main_params.get("functionAppHostName")) == "api.outputs.defaultHostName",
        "main.bicep must pass api.outputs.defaultHostName as functionAppHostName",
    )
    hub_name = infra.main.resolve(main_params.get("hubName"))
    expect(problems, hub_name == "chat", f"main.bicep must pass hubName 'chat', found {hub_name}")
    return problems


@check
def check_signalr_upstream_managed_identity_auth(infra: Infra) -> list[str]:
    problems: list[str] = []
    bicep, templates = _upstream_templates(infra, problems)
    for index, template in enumerate(templates):
        auth_type = bicep.resolve(get(template, "auth", "type"))
        expect(
            problems,
            auth_type == "ManagedIdentity",
            f"upstream {index} auth type must be ManagedIdentity, found {auth_type}",
        )
    return problems


@check
def check_signalr_identity_and_sku(infra: Infra) -> list[str]:
    problems: list[str] = []
    bicep, signalr = _signalr(infra, problems)
    expect(
        problems,
        get(signalr, "identity", "type") == "SystemAssigned",
        "SignalR needs a system-assigned identity (Key Vault reference, upstream token)",
    )
    for source, param in ((bicep, "sku"), (infra.main, "signalRSku")):
        spec = source.parameters.get(param, {})
        allowed = allowed_values(source, param)
        expect(
            problems,
            sorted(allowed or []) == ["Free_F1", "Standard_S1"],
            f"{source.path.name}: {param} must allow exactly Standard_S1 and Free_F1",
        )
        expect(
            problems,
            spec.get("default") == "Standard_S1",
            f"{source.path.name}: {param} must default to Standard_S1",
        )
    expect(
        problems, get(signalr, "sku", "name") == "sku", "SignalR sku.name must use the sku param"
    )
    return problems


@check
def check_signalr_cors_allows_app_origin(infra: Infra) -> list[str]:
    problems: list[str] = []
    _, signalr = _signalr(infra, problems)
    origins = get(signalr, "properties", "cors", "allowedOrigins")
    flat = repr(origins)
    expect(
        problems,
        "https://${functionAppHostName}" in flat,
        "SignalR CORS must allow the Function App origin https://<host>",
    )
    expect(problems, "'*'" not in flat, "SignalR CORS must not allow every origin")
    return problems
