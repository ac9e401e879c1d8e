"""Broken copies of each module that the Bicep type check must reject, with the finding it must
report: the code, the resource, the property path, and text on the line it must point at.

Four kinds per module: a misspelled property, a read-only property set, a value outside what
the type allows, and an API version with no type data. Two modules have no value mutation:
the resource group (main.bicep) and role assignments (rbac.bicep) have no property whose type
limits its values (``principalType`` allows any string besides its known values, so Bicep
accepts ``'Robot'``; the tests show that too).
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.infra.infra_mutations import Mutation

__all__ = ["KINDS", "TYPE_MUTATIONS", "TypeMutation"]

KINDS = ("misspelled", "read_only", "wrong_value", "no_type_data")


@dataclass(frozen=True)
class TypeMutation:
    change: Mutation
    code: str
    resource: str
    path: str
    marker: str  # unique text of the mutated file, on the line the finding must name


def _t(
    file: str, old: str, new: str, code: str, resource: str, path: str, marker: str
) -> TypeMutation:
    return TypeMutation(Mutation(file, old, new, frozenset()), code, resource, path, marker)


MAIN, API, KEYVAULT = "main.bicep", "app/api.bicep", "app/keyvault.bicep"
MONITORING, RBAC = "app/monitoring.bicep", "app/rbac.bicep"
SIGNALR, STORAGE = "app/signalr.bicep", "app/storage.bicep"
FIRST_ROLE = (
    "  name: guid(signalR.id, appPrincipalId, roles.signalRServiceOwner)\n  properties: {\n"
)
RG_END = "  location: location\n  tags: tags\n}"

TYPE_MUTATIONS: dict[str, TypeMutation] = {
    # main.bicep: the resource group
    "main_misspelled": _t(
        MAIN, RG_END, RG_END.replace("tags:", "tgas:"),
        "BCP037", "rg", "tgas", "tgas: tags",  # too far from "tags" for Bicep to suggest it
    ),
    "main_read_only": _t(
        MAIN, RG_END, RG_END[:-1] + "  properties: {\n    provisioningState: 'Done'\n  }\n}",
        "BCP073", "rg", "properties.provisioningState", "provisioningState: 'Done'",
    ),
    "main_no_type_data": _t(
        MAIN, "resourceGroups@2024-03-01", "resourceGroups@2025-04-01",
        "BCP081", "rg", "", "resourceGroups@2025-04-01",
    ),
    # app/api.bicep: the Function App
    "api_misspelled": _t(
        API, "httpsOnly: true", "httpsOnyl: true",
        "BCP089", "site", "properties.httpsOnyl", "httpsOnyl: true",
    ),
    "api_read_only": _t(
        API, "    httpsOnly: true\n", "    httpsOnly: true\n    defaultHostName: 'chat.example'\n",
        "BCP073", "site", "properties.defaultHostName", "defaultHostName: 'chat.example'",
    ),
    "api_wrong_value": _t(
        API, "  identity: {\n    type: 'SystemAssigned'\n", "  identity: {\n    type: 'Managed'\n",
        "BCP036", "site", "identity.type", "type: 'Managed'",
    ),
    "api_no_type_data": _t(
        API, "Microsoft.Web/sites@2024-04-01", "Microsoft.Web/sites@2024-11-01",
        "BCP081", "site", "", "Microsoft.Web/sites@2024-11-01",
    ),
    # app/keyvault.bicep
    "keyvault_misspelled": _t(
        KEYVAULT, "enableRbacAuthorization: true", "enableRbacAuthorisation: true",
        "BCP089", "vault", "properties.enableRbacAuthorisation", "enableRbacAuthorisation",
    ),
    "keyvault_read_only": _t(
        KEYVAULT, "    enableRbacAuthorization: true\n",
        "    enableRbacAuthorization: true\n    hsmPoolResourceId: 'pool'\n",
        "BCP073", "vault", "properties.hsmPoolResourceId", "hsmPoolResourceId: 'pool'",
    ),
    "keyvault_wrong_value": _t(
        KEYVAULT, "name: 'standard'", "name: 'basic'",
        "BCP036", "vault", "properties.sku.name", "name: 'basic'",
    ),
    "keyvault_no_type_data": _t(
        KEYVAULT, "vaults@2023-07-01", "vaults@2025-05-01",
        "BCP081", "vault", "", "vaults@2025-05-01",
    ),
    # app/monitoring.bicep
    "monitoring_misspelled": _t(
        MONITORING, "    retentionInDays: retentionInDays", "    retentionInDay: retentionInDays",
        "BCP089", "logAnalytics", "properties.retentionInDay", "retentionInDay:",
    ),
    "monitoring_read_only": _t(
        MONITORING, "    DisableLocalAuth: true\n",
        "    DisableLocalAuth: true\n    provisioningState: 'Succeeded'\n",
        "BCP073", "applicationInsights", "properties.provisioningState", "provisioningState:",
    ),
    "monitoring_wrong_value": _t(
        MONITORING, "  tags: tags\n  properties: {\n    retentionInDays",
        "  tags: tags\n  identity: {\n    type: 'Managed'\n  }\n"
        "  properties: {\n    retentionInDays",
        "BCP036", "logAnalytics", "identity.type", "type: 'Managed'",
    ),
    "monitoring_no_type_data": _t(
        MONITORING, "workspaces@2023-09-01", "workspaces@2025-02-01",
        "BCP081", "logAnalytics", "", "workspaces@2025-02-01",
    ),
    # app/rbac.bicep: no value mutation (see the module docstring)
    "rbac_misspelled": _t(
        RBAC, FIRST_ROLE + "    principalId: appPrincipalId\n    principalType:",
        FIRST_ROLE + "    principalId: appPrincipalId\n    principalTyp:",
        "BCP089", "appSignalROwner", "properties.principalTyp", "principalTyp:",
    ),
    "rbac_read_only": _t(
        RBAC, FIRST_ROLE, FIRST_ROLE + "    scope: signalR.id\n",
        "BCP073", "appSignalROwner", "properties.scope", "    scope: signalR.id",
    ),
    "rbac_no_type_data": _t(
        RBAC, "appSignalROwner 'Microsoft.Authorization/roleAssignments@2022-04-01'",
        "appSignalROwner 'Microsoft.Authorization/roleAssignments@2025-01-01'",
        "BCP081", "appSignalROwner", "", "roleAssignments@2025-01-01",
    ),
    # app/signalr.bicep
    "signalr_misspelled": _t(
        SIGNALR, "hubPattern: hubName", "hubPatern: hubName",
        "BCP089", "signalR", "properties.upstream.templates[0].hubPatern", "hubPatern:",
    ),
    "signalr_read_only": _t(
        SIGNALR, "    disableAadAuth: false\n",
        "    disableAadAuth: false\n    hostName: 'chat.service.signalr.net'\n",
        "BCP073", "signalR", "properties.hostName", "hostName: 'chat",
    ),
    "signalr_wrong_value": _t(
        SIGNALR, "    tls: {\n",
        "    serverless: {\n      connectionTimeoutInSeconds: 300\n    }\n    tls: {\n",
        "BCP327", "signalR", "properties.serverless.connectionTimeoutInSeconds",
        "connectionTimeoutInSeconds: 300",
    ),
    "signalr_no_type_data": _t(
        SIGNALR, "signalR@2024-03-01", "signalR@2025-01-01-preview",
        "BCP081", "signalR", "", "signalR@2025-01-01-preview",
    ),
    # app/storage.bicep
    "storage_misspelled": _t(
        STORAGE, "allowBlobPublicAccess: false", "allowBlobPublicAcces: false",
        "BCP089", "storage", "properties.allowBlobPublicAcces", "allowBlobPublicAcces:",
    ),
    "storage_read_only": _t(
        STORAGE, "    accessTier: 'Hot'\n",
        "    accessTier: 'Hot'\n    primaryLocation: 'eastus'\n",
        "BCP073", "storage", "properties.primaryLocation", "primaryLocation:",
    ),
    "storage_wrong_value": _t(
        STORAGE, "accessTier: 'Hot'", "accessTier: 'Warm'",
        "BCP036", "storage", "properties.accessTier", "accessTier: 'Warm'",
    ),
    "storage_no_type_data": _t(
        STORAGE, "storageAccounts@2023-05-01", "storageAccounts@2025-01-01",
        "BCP081", "storage", "", "storageAccounts@2025-01-01",
    ),
}  # fmt: skip
