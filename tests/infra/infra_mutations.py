"""Ways to break infra/, each with the checks that must catch it.

A mutation replaces one exact snippet in one file of a copy of infra/. The snippet must be
present (``apply`` raises otherwise), so a change to the Bicep that moves a snippet makes the
broken-copy tests fail loudly instead of passing for the wrong reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CHECKOV_MUTATIONS", "MUTATIONS", "Mutation"]

UPSTREAM_AUTH = """
          auth: {
            type: 'ManagedIdentity'
            managedIdentity: {
              resource: upstreamTokenAudience
            }
          }"""

SERVICE_MODE = """
      {
        flag: 'ServiceMode'
        value: 'Serverless'
      }"""


@dataclass(frozen=True)
class Mutation:
    """Replace ``old`` with ``new`` in ``file``; ``contract``/``checkov`` must then fail."""

    file: str
    old: str
    new: str
    contract: frozenset[str]
    checkov: frozenset[str] = frozenset()

    def apply(self, infra_dir: Path) -> None:
        path = infra_dir / self.file
        text = path.read_text(encoding="utf-8")
        if text.count(self.old) != 1:
            raise AssertionError(f"{self.file}: snippet to mutate found {text.count(self.old)}x")
        path.write_text(text.replace(self.old, self.new), encoding="utf-8")


def _m(
    file: str, old: str, new: str, contract: Iterable[str], checkov: Iterable[str] = ()
) -> Mutation:
    return Mutation(file, old, new, frozenset(contract), frozenset(checkov))


SIGNALR = "app/signalr.bicep"
API = "app/api.bicep"

MUTATIONS: dict[str, Mutation] = {
    # The three that matter most: upstream auth, Key Vault reference, Serverless mode removed.
    "upstream_auth_removed": _m(
        SIGNALR, UPSTREAM_AUTH, "", {"signalr_upstream_managed_identity_auth"}, {"CKV_CHAT_3"}
    ),
    "key_vault_reference_removed": _m(
        SIGNALR,
        "?code={@Microsoft.KeyVault(SecretUri=${systemKeySecretUri})}",
        "?code=0123456789abcdef0123456789abcdef",
        {"signalr_upstream_key_vault_reference", "no_plain_urls_or_keys"},
        {"CKV_CHAT_2"},
    ),
    "serverless_mode_removed": _m(
        SIGNALR, SERVICE_MODE, "", {"signalr_serverless_mode"}, {"CKV_CHAT_1"}
    ),
    # Variations of the same three.
    "upstream_auth_none": _m(
        SIGNALR,
        "type: 'ManagedIdentity'",
        "type: 'None'",
        {"signalr_upstream_managed_identity_auth"},
        {"CKV_CHAT_3"},
    ),
    "serverless_mode_default": _m(
        SIGNALR,
        "value: 'Serverless'",
        "value: 'Default'",
        {"signalr_serverless_mode"},
        {"CKV_CHAT_1"},
    ),
    "upstream_secret_renamed": _m(
        SIGNALR,
        "'host--systemKey--signalr-095extension'",
        "'signalr-key'",
        {"signalr_upstream_key_vault_reference"},
    ),
    "signalr_identity_removed": _m(
        SIGNALR,
        "  identity: {\n    type: 'SystemAssigned'\n  }\n  properties: {\n    features",
        "  properties: {\n    features",
        {"signalr_identity_and_sku"},
        {"CKV_CHAT_4"},
    ),
    "signalr_cors_any_origin": _m(
        SIGNALR,
        "], allowedOrigins)",
        "], ['*'])",
        {"signalr_cors_allows_app_origin"},
        {"CKV_CHAT_5"},
    ),
    # Function App hardening and settings.
    "https_only_off": _m(API, "httpsOnly: true", "httpsOnly: false", {"function_app_hardening"}),
    "tls_1_0": _m(
        API, "      minTlsVersion: '1.2'", "      minTlsVersion: '1.0'", {"function_app_hardening"}
    ),
    "ftps_allowed": _m(
        API, "ftpsState: 'Disabled'", "ftpsState: 'AllAllowed'", {"function_app_hardening"}
    ),
    "host_keys_in_blob_storage": _m(
        API,
        "AzureWebJobsSecretStorageType: 'keyvault'",
        "AzureWebJobsSecretStorageType: 'blob'",
        {"function_app_settings"},
    ),
    "webhook_behind_login": _m(
        API,
        "excludedPaths: [\n        '/runtime/webhooks/signalr'\n      ]",
        "excludedPaths: []",
        {"app_service_auth"},
    ),
    # Key Vault, roles, secrets, URLs.
    "key_vault_access_policies": _m(
        "app/keyvault.bicep",
        "enableRbacAuthorization: true",
        "enableRbacAuthorization: false",
        {"key_vault_rbac"},
    ),
    "wrong_secrets_user_role": _m(
        "app/rbac.bicep",
        "4633458b-17de-408a-b874-0445c86b69e6",
        "00000000-0000-0000-0000-000000000000",
        {"role_assignments"},
    ),
    "storage_key_output": _m(
        "app/storage.bicep",
        "output name string = storage.name",
        "output name string = storage.name\noutput key string = storage.listKeys().keys[0].value",
        {"outputs_carry_no_secrets"},
    ),
    "runtime_not_python": _m(
        API, "        name: 'python'", "        name: 'node'", {"function_app_runtime_and_plan"}
    ),
    "service_tag_renamed": _m(
        "main.bicep",
        "var serviceName = 'api'",
        "var serviceName = 'web'",
        {"function_app_service_tag"},
    ),
    "storage_tls_1_0": _m(
        "app/storage.bicep",
        "minimumTlsVersion: 'TLS1_2'",
        "minimumTlsVersion: 'TLS1_0'",
        {"storage_hardening"},
    ),
    "chat_url_not_the_page": _m(
        "main.bicep", "${api.outputs.uri}/api/index'", "${api.outputs.uri}/'", {"main_wiring"}
    ),
    "environment_name_not_from_azd": _m(
        "main.parameters.json", '"value": "${AZURE_ENV_NAME}"', '"value": "chat"', {"azd_files"}
    ),
    # What a compiler would refuse.
    "undeclared_symbol": _m(
        API, "serverFarmId: plan.id", "serverFarmId: plann.id", {"references_are_declared"}
    ),
    "module_parameter_typo": _m(
        "main.bicep",
        "    keyVaultUri: keyVault.outputs.uri",
        "    keyVaultUrl: keyVault.outputs.uri",
        {"module_wiring", "signalr_upstream_key_vault_reference"},
    ),
    "module_output_typo": _m(
        "main.bicep",
        "output SIGNALR_HOSTNAME string = signalR.outputs.hostName",
        "output SIGNALR_HOSTNAME string = signalR.outputs.host",
        {"module_wiring"},
    ),
    "plain_http_origin": _m(
        SIGNALR,
        "'https://${functionAppHostName}'\n",
        "'http://${functionAppHostName}'\n",
        {"signalr_cors_allows_app_origin", "no_plain_urls_or_keys"},
    ),
}

# The copies checkov scans, one run each (checkov 3.3.30 drops resources that two copies in one
# scan share by name): the three that matter most plus the identity and CORS breaks.
CHECKOV_MUTATIONS = {
    name: MUTATIONS[name]
    for name in (
        "upstream_auth_removed",
        "key_vault_reference_removed",
        "serverless_mode_removed",
        "signalr_identity_removed",
        "signalr_cors_any_origin",
    )
}
