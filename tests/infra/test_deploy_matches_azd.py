"""infra/deploy.sh and ``azd up`` deploy the same thing: names, app settings, resource settings.

The azd side is computed from infra/ (main.parameters.json substituted as azd does, main.bicep and
its modules evaluated: infra_azd_values); the script side is read from its ``--dry-run``
(infra_deploy_plan). Each test fails if either side changes alone.

Known, deliberate differences, asserted below so they cannot grow unnoticed:

- the token in the names: Bicep's ``resourceToken`` is ARM's ``uniqueString(subscription,
  environment, location)``; the script hashes subscription and name itself (same shape, not the
  same value), and leaves the location out so that ``url`` and ``down`` find what ``up`` made;
- the plan: ``az functionapp create --consumption-plan-location`` makes its own Linux
  Consumption (Y1) plan, where Bicep names one ``plan-<token>``;
- ``AzureWebJobsStorage``: ``az functionapp create --storage-account`` sets it;
- the deploying user's debugging roles: azd fills ``AZURE_PRINCIPAL_ID``; the script grants none.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.infra.bicep_evaluate import is_known
from tests.infra.infra_azd_values import TOKEN, AzdDeployment
from tests.infra.infra_contract import EXPECTED_ROLES
from tests.infra.infra_deploy_plan import DeployPlan, dry_run
from tests.infra.infra_model import INFRA_DIR, body, load_infra

AZD_ENV = {"AZURE_ENV_NAME": "ci", "AZURE_LOCATION": "westeurope"}
SCRIPT_ENV = {"CHAT_ENV_NAME": "ci", "AZURE_LOCATION": "westeurope"}

# Each resource: the script's command and name flag, and the Bicep (module, resource) behind it.
RESOURCES: dict[str, tuple[tuple[str, ...], str, str | None, str]] = {
    "resource group": (("az", "group", "create"), "--name", None, "rg"),
    "storage": (("az", "storage", "account", "create"), "--name", "storage", "storage"),
    "Log Analytics": (
        ("az", "monitor", "log-analytics", "workspace", "create"),
        "--workspace-name",
        "monitoring",
        "logAnalytics",
    ),
    "Application Insights": (
        ("az", "resource", "create"),
        "--name",
        "monitoring",
        "applicationInsights",
    ),
    "Key Vault": (("az", "keyvault", "create"), "--name", "keyVault", "vault"),
    "Function App": (("az", "functionapp", "create"), "--name", "api", "site"),
    "SignalR": (("az", "signalr", "create"), "--name", "signalR", "signalR"),
}
# App settings whose value only a deployment knows, and what the script sets instead.
RUNTIME_SETTINGS = {
    "AzureWebJobsStorage",  # az functionapp create --storage-account
    "AzureWebJobsSecretStorageKeyVaultUri",  # the vault's URI
    "APPLICATIONINSIGHTS_CONNECTION_STRING",  # read from the component
}


@pytest.fixture(scope="module")
def azd() -> AzdDeployment:
    return AzdDeployment.of(load_infra(INFRA_DIR), AZD_ENV)


@pytest.fixture(scope="module")
def plan() -> DeployPlan:
    return dry_run("up", env=SCRIPT_ENV)


def names(azd: AzdDeployment) -> dict[str, str]:
    return {
        label: azd.resource(module, symbol)["name"]
        for label, (_, _, module, symbol) in RESOURCES.items()
    }


def script_names(plan: DeployPlan) -> dict[str, str]:
    return {label: plan.option(command, flag) for label, (command, flag, _, _) in RESOURCES.items()}


def token_of(azd: AzdDeployment, plan: DeployPlan) -> str:
    """The script's stand-in for resourceToken, read off the Function App's name."""
    prefix = names(azd)["Function App"].removesuffix(TOKEN)
    token = script_names(plan)["Function App"].removeprefix(prefix)
    assert re.fullmatch(r"[a-z0-9]{13}", token), token  # the shape of uniqueString()
    return token


def test_deploy_script_names_resources_as_bicep_does(azd: AzdDeployment, plan: DeployPlan) -> None:
    token = token_of(azd, plan)
    expected = {label: name.replace(TOKEN, token) for label, name in names(azd).items()}
    assert script_names(plan) == expected
    assert expected["resource group"] == "rg-ci"


def test_deploy_script_finds_the_same_resources_in_up_url_and_down(plan: DeployPlan) -> None:
    """url and down need neither --location nor the same AZURE_LOCATION as up."""
    up = script_names(plan)
    elsewhere = {"CHAT_ENV_NAME": "ci", "AZURE_LOCATION": "eastus"}
    url = dry_run("url", env=elsewhere)
    down = dry_run("down", "--purge", env={"CHAT_ENV_NAME": "ci"})
    assert url.option(("az", "functionapp", "show"), "--name") == up["Function App"]
    assert down.option(("az", "group", "delete"), "--name") == up["resource group"]
    assert down.option(("az", "keyvault", "purge"), "--name") == up["Key Vault"]
    assert f"CHAT_URL=https://{up['Function App']}.azurewebsites.net/api/index" in url.stdout


def app_settings(azd: AzdDeployment) -> dict[str, Any]:
    settings = azd.resource("api", "appSettings")["properties"]
    assert isinstance(settings, dict), settings
    return settings


@pytest.mark.parametrize(
    ("script_env", "azd_env", "overrides"),
    [
        pytest.param({}, {}, {}, id="defaults"),
        pytest.param(
            {
                "CHAT_ADMINS": "alice,bob",
                "CHAT_MAX_MESSAGE_LENGTH": "500",
                "CHAT_HISTORY_SIZE": "50",
                "SIGNALR_CLIENT_URL": "https://cdn.example/signalr.js",
            },
            {"CHAT_ADMINS": "alice,bob"},  # mapped by main.parameters.json
            {  # main.bicep parameters that main.parameters.json leaves at their defaults
                "chatMaxMessageLength": 500,
                "chatHistorySize": 50,
                "signalRClientUrl": "https://cdn.example/signalr.js",
            },
            id="overrides",
        ),
    ],
)
def test_deploy_script_sets_the_bicep_app_settings(
    script_env: dict[str, str], azd_env: dict[str, str], overrides: dict[str, Any]
) -> None:
    azd = AzdDeployment.of(load_infra(INFRA_DIR), {**AZD_ENV, **azd_env}, **overrides)
    plan = dry_run("up", env={**SCRIPT_ENV, **script_env})
    token, vault = token_of(azd, plan), script_names(plan)["Key Vault"]
    bicep = app_settings(azd)
    script = plan.app_settings()

    assert {key for key, value in bicep.items() if not is_known(value)} == RUNTIME_SETTINGS
    known = {k: str(value).replace(TOKEN, token) for k, value in bicep.items() if is_known(value)}
    assert {key: script.get(key) for key in known} == known
    assert set(script) == set(bicep) - {"AzureWebJobsStorage"}
    assert script["AzureWebJobsSecretStorageKeyVaultUri"] == f"https://{vault}.vault.azure.net/"
    storage = plan.option(("az", "functionapp", "create"), "--storage-account")
    assert storage == script_names(plan)["storage"]


def test_deploy_script_defaults_match_main_bicep(azd: AzdDeployment, plan: DeployPlan) -> None:
    """The message length limit: 2000 in main.bicep, and so in the script."""
    assert azd.parameters["chatMaxMessageLength"] == 2000
    assert plan.app_settings()["CHAT_MAX_MESSAGE_LENGTH"] == "2000"
    assert "CHAT_HISTORY_SIZE" not in plan.app_settings()  # 0 keeps the app default


def settings_pairs(azd: AzdDeployment, plan: DeployPlan) -> dict[str, tuple[Any, Any]]:
    """{what: (Bicep value, script value)} for every resource setting both paths set."""
    rg = azd.resource(None, "rg")
    storage = azd.resource("storage", "storage")
    logs = azd.resource("monitoring", "logAnalytics")
    insights = azd.resource("monitoring", "applicationInsights")
    vault = azd.resource("keyVault", "vault")
    site = azd.resource("api", "site")
    ftp = azd.resource("api", "site__ftpCredentials")
    signalr = azd.resource("signalR", "signalR", _signalr_outputs(plan))
    config = site["properties"]["siteConfig"]
    insights_body = json.loads(plan.option(("az", "resource", "create"), "--properties"))
    workspace = insights_body["properties"].pop("WorkspaceResourceId")
    bicep_workspace = insights["properties"].pop("WorkspaceResourceId")
    create, update = ("az", "functionapp", "create"), ("az", "functionapp", "update")
    web = ("az", "functionapp", "config", "set")
    store, sigr = ("az", "storage", "account", "create"), ("az", "signalr", "create")
    patch = plan.patch_body()["properties"]
    return {
        "location": (rg["location"], plan.option(("az", "group", "create"), "--location")),
        "tags": (rg["tags"], dict([plan.option(("az", "group", "create"), "--tags").split("=")])),
        "storage sku": (storage["sku"]["name"], plan.option(store, "--sku")),
        "storage kind": (storage["kind"], plan.option(store, "--kind")),
        "storage TLS": (storage["properties"]["minimumTlsVersion"],
                        plan.option(store, "--min-tls-version")),
        "storage HTTPS only": (_flag(storage["properties"]["supportsHttpsTrafficOnly"]),
                               plan.option(store, "--https-only")),
        "public blobs": (_flag(storage["properties"]["allowBlobPublicAccess"]),
                         plan.option(store, "--allow-blob-public-access")),
        "log retention": (logs["properties"]["retentionInDays"], int(plan.option(
            ("az", "monitor", "log-analytics", "workspace", "create"), "--retention-time"))),
        "insights": ({"kind": insights["kind"], **insights["properties"]},
                     {"kind": insights_body["kind"], **insights_body["properties"]}),
        "insights workspace": (getattr(bicep_workspace, "text", bicep_workspace),
                               _workspace_expression(plan, workspace)),
        "vault retention": (vault["properties"]["softDeleteRetentionInDays"],
                            int(plan.option(("az", "keyvault", "create"), "--retention-days"))),
        "vault RBAC": (_flag(vault["properties"]["enableRbacAuthorization"]), plan.option(
            ("az", "keyvault", "create"), "--enable-rbac-authorization")),
        "Python": (config["linuxFxVersion"], f"Python|{plan.option(create, '--runtime-version')}"),
        "HTTPS only": (f"httpsOnly={_flag(site['properties']['httpsOnly'])}",
                       plan.option(update, "--set")),
        "FTPS": (config["ftpsState"], plan.option(web, "--ftps-state")),
        "TLS": (config["minTlsVersion"], plan.option(web, "--min-tls-version")),
        "HTTP/2": (_flag(config["http20Enabled"]), plan.option(web, "--http20-enabled")),
        "remote debugging": (_flag(config["remoteDebuggingEnabled"]),
                             plan.option(web, "--remote-debugging-enabled")),
        "FTP publishing": (f"properties.allow={_flag(ftp['properties']['allow'])}", plan.option(
            ("az", "resource", "update"), "--set")),
        "SignalR sku": (signalr["sku"]["name"], plan.option(sigr, "--sku")),
        "SignalR units": (signalr["sku"]["capacity"], int(plan.option(sigr, "--unit-count"))),
        "SignalR features": (signalr["properties"]["features"], patch["features"]),
        "SignalR CORS": (signalr["properties"]["cors"], patch["cors"]),
        "SignalR upstream": (signalr["properties"]["upstream"], patch["upstream"]),
    }  # fmt: skip


def _signalr_outputs(plan: DeployPlan) -> dict[str, str]:
    """What Azure returns for a new app and vault, as the script's dry run assumes too."""
    created = script_names(plan)
    return {
        "functionAppHostName": f"{created['Function App']}.azurewebsites.net",
        "keyVaultUri": f"https://{created['Key Vault']}.vault.azure.net/",
    }


def _workspace_expression(plan: DeployPlan, value: str) -> str:
    """``logAnalytics.id`` if ``value`` is the id the script read back from its own workspace."""
    show = ("az", "monitor", "log-analytics", "workspace", "show")
    own = plan.option(show, "--workspace-name") == script_names(plan)["Log Analytics"]
    return "logAnalytics.id" if own and value == "<workspace-id>" else value


def _flag(value: Any) -> str:
    assert isinstance(value, bool), value
    return "true" if value else "false"


def test_deploy_script_configures_resources_as_bicep_does(
    azd: AzdDeployment, plan: DeployPlan
) -> None:
    pairs = settings_pairs(azd, plan)
    assert {what: pair for what, pair in pairs.items() if pair[0] != pair[1]} == {}
    assert all(is_known(bicep) for bicep, _ in pairs.values())


def test_deploy_script_grants_the_bicep_roles(azd: AzdDeployment, plan: DeployPlan) -> None:
    """The same (principal, role, scope) triples; AZURE_PRINCIPAL_ID is empty on both sides."""
    stand_ins = {
        "appPrincipalId": "<app-principal-id>",
        "signalRPrincipalId": "<signalr-principal-id>",
    }
    scopes = {"signalR": "<signalr-id>", "vault": "<vault-id>", "storage": "<storage-id>",
              "applicationInsights": "<insights-id>"}  # fmt: skip
    rbac = azd.module("rbac", stand_ins)
    by_bicep = set()
    for symbol, resource in rbac.bicep.resources.items():
        if resource["type"] != "Microsoft.Authorization/roleAssignments":
            continue
        deployed = azd.deployed("rbac", symbol)
        assert deployed in (True, False), symbol
        if deployed:
            config = body(resource)
            role = config["properties"]["roleDefinitionId"]["function"]["parameters"]
            by_bicep.add((
                rbac.evaluate(config["properties"]["principalId"]),
                rbac.evaluate(role["resource_name_1"]),
                scopes[str(config["scope"])],
            ))  # fmt: skip
    flags = ("--assignee-object-id", "--role", "--scope")
    by_script = {
        tuple(words[words.index(flag) + 1] for flag in flags)
        for words in plan.commands()
        if words[:4] == ["az", "role", "assignment", "create"]
    }
    assert by_script == by_bicep
    assert {role for _, role, _ in by_script} == {role for role, _, _ in EXPECTED_ROLES.values()}
