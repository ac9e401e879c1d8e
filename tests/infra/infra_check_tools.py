"""Shared pieces of the infra/ contract checks: the registry, constants and small helpers.

Sources: Serverless mode is the ``ServiceMode`` feature (ARM template reference,
https://learn.microsoft.com/azure/templates/microsoft.signalrservice/signalr); the SignalR
trigger's upstream is ``/runtime/webhooks/signalr?code=<system key>``
(https://learn.microsoft.com/azure/azure-functions/functions-bindings-signalr-service-trigger,
https://learn.microsoft.com/azure/azure-signalr/concept-upstream); with
``AzureWebJobsSecretStorageType=keyvault`` the host stores that key as the secret
``host--systemKey--signalr-095extension`` (Azure/azure-functions-host
src/WebJobs.Script.WebHost/Security/KeyManagement/KeyVaultSecretsRepository.cs); role definition
ids are Azure's built-in roles (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.infra.infra_model import BicepFile, Infra

__all__ = [
    "CHECKS",
    "EXPECTED_ROLES",
    "KEY_VAULT_REF",
    "SYSTEM_KEY_SECRET",
    "UPSTREAM_PATH",
    "Check",
    "allowed_values",
    "check",
    "expect",
    "get",
    "single",
]

Check = Callable[[Infra], list[str]]
CHECKS: dict[str, Check] = {}


SYSTEM_KEY_SECRET = "host--systemKey--signalr-095extension"
UPSTREAM_PATH = "/runtime/webhooks/signalr"
KEY_VAULT_REF = "{@Microsoft.KeyVault(SecretUri="

# Built-in role definition ids (the same in every tenant) and who must hold them on what.
EXPECTED_ROLES: dict[str, tuple[str, str, str]] = {
    # role key in rbac.bicep: (role definition id, principal parameter, scope symbol)
    "signalRServiceOwner": ("7e4f1700-ea5a-4f59-8f37-079cfe29dce3", "appPrincipalId", "signalR"),
    "keyVaultSecretsOfficer": ("b86a8fe4-44ce-4948-aee5-eccb2c155cd7", "appPrincipalId", "vault"),
    "keyVaultSecretsUser": ("4633458b-17de-408a-b874-0445c86b69e6", "signalRPrincipalId", "vault"),
    "storageBlobDataOwner": ("b7e6dc6d-f1e8-4753-8033-0f276bb0955b", "appPrincipalId", "storage"),
    "storageQueueDataContributor": (
        "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
        "appPrincipalId",
        "storage",
    ),
    "storageTableDataContributor": (
        "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
        "appPrincipalId",
        "storage",
    ),
    "monitoringMetricsPublisher": (
        "3913510d-42f4-4e42-8a64-420c390055eb",
        "appPrincipalId",
        "applicationInsights",
    ),
}


def check(function: Check) -> Check:
    """Register a check under its name without the ``check_`` prefix."""
    CHECKS[function.__name__.removeprefix("check_")] = function
    return function


def expect(problems: list[str], ok: bool, message: str) -> None:
    if not ok:
        problems.append(message)


def single(bicep: BicepFile, resource_type: str, problems: list[str]) -> dict[str, Any]:
    """The body of the one resource of ``resource_type``; records a problem if not exactly one."""
    found = list(bicep.resources_of_type(resource_type))
    if len(found) != 1:
        problems.append(f"{bicep.path.name}: expected one {resource_type}, found {len(found)}")
        return {}
    return found[0][1]


def get(mapping: Any, *keys: str) -> Any:
    """``mapping[k1][k2]...`` or None when any step is missing."""
    for key in keys:
        if not isinstance(mapping, dict) or key not in mapping:
            return None
        mapping = mapping[key]
    return mapping


def allowed_values(bicep: BicepFile, param: str) -> list[Any] | None:
    """The ``@allowed([...])`` list of a parameter, or None."""
    spec = bicep.parameters.get(param, {})
    return next((d["argument"] for d in spec.get("decorators", []) if d["type"] == "allowed"), None)
