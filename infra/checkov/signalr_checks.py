"""checkov checks for Microsoft.SignalRService/signalR as this chat deploys it.

checkov 3.3.30 ships no check for signalR (only CKV_AZURE_175/176 for webPubSub), so these encode
the deployment contract: Serverless mode and upstream templates as the ARM template reference
describes them (https://learn.microsoft.com/azure/templates/microsoft.signalrservice/signalr),
and the SignalR trigger's webhook as the Functions docs do
(https://learn.microsoft.com/azure/azure-functions/functions-bindings-signalr-service-trigger):

- CKV_CHAT_1  Serverless mode: a ``ServiceMode`` feature whose value is ``Serverless``.
- CKV_CHAT_2  The upstream reaches the SignalR trigger webhook, and its ``code=`` (the
              signalr_extension system key) comes from a Key Vault reference, never inline.
- CKV_CHAT_3  Every upstream template authenticates with ``ManagedIdentity``.
- CKV_CHAT_4  The service has a managed identity (it resolves the Key Vault reference).
- CKV_CHAT_5  CORS lists origins explicitly (omitted means every origin) and never ``*``.

checkov hands Bicep bodies over as pycep-parser trees with variables and parameter defaults
substituted one level, so a value may still be a reference name or an expression dict; a check
fails unless it sees the literal it needs.
"""

from __future__ import annotations

import re
from typing import Any

from checkov.arm.base_resource_check import BaseResourceCheck
from checkov.common.models.enums import CheckCategories, CheckResult

__all__ = [
    "SignalRCorsIsExplicit",
    "SignalRHasManagedIdentity",
    "SignalRIsServerless",
    "SignalRUpstreamKeyFromKeyVault",
    "SignalRUpstreamUsesManagedIdentity",
]

SIGNALR = ["Microsoft.SignalRService/signalR"]
WEBHOOK = "/runtime/webhooks/signalr?code="
KEY_VAULT_REF = "{@Microsoft.KeyVault(SecretUri="
# code= followed by anything but a Key Vault reference is a key written into the template.
INLINE_CODE = re.compile(r"code=(?!\{@Microsoft\.KeyVault\(SecretUri=)")


def _get(conf: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(conf, dict) or key not in conf:
            return None
        conf = conf[key]
    return conf


def _templates(conf: dict[str, Any]) -> list[dict[str, Any]]:
    templates = _get(conf, "properties", "upstream", "templates")
    if not isinstance(templates, list):
        return []
    return [t for t in templates if isinstance(t, dict)]


class _SignalRCheck(BaseResourceCheck):
    def __init__(self, name: str, check_id: str, category: CheckCategories) -> None:
        super().__init__(name=name, id=check_id, categories=[category], supported_resources=SIGNALR)


class SignalRIsServerless(_SignalRCheck):
    def __init__(self) -> None:
        super().__init__(
            "Ensure Azure SignalR Service runs in Serverless mode",
            "CKV_CHAT_1",
            CheckCategories.GENERAL_SECURITY,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        features = _get(conf, "properties", "features")
        if not isinstance(features, list):
            return CheckResult.FAILED
        modes = [
            f.get("value")
            for f in features
            if isinstance(f, dict) and f.get("flag") == "ServiceMode"
        ]
        return CheckResult.PASSED if modes == ["Serverless"] else CheckResult.FAILED


class SignalRUpstreamKeyFromKeyVault(_SignalRCheck):
    def __init__(self) -> None:
        super().__init__(
            "Ensure the SignalR upstream takes the webhook key from a Key Vault reference",
            "CKV_CHAT_2",
            CheckCategories.SECRETS,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        urls = [t.get("urlTemplate") for t in _templates(conf)]
        if not urls or not all(isinstance(url, str) for url in urls):
            return CheckResult.FAILED
        if any(INLINE_CODE.search(url) for url in urls):
            return CheckResult.FAILED
        webhook = [url for url in urls if f"{WEBHOOK}{KEY_VAULT_REF}" in url and url.endswith(")}")]
        return CheckResult.PASSED if webhook else CheckResult.FAILED


class SignalRUpstreamUsesManagedIdentity(_SignalRCheck):
    def __init__(self) -> None:
        super().__init__(
            "Ensure every SignalR upstream template authenticates with a managed identity",
            "CKV_CHAT_3",
            CheckCategories.IAM,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        templates = _templates(conf)
        if templates and all(_get(t, "auth", "type") == "ManagedIdentity" for t in templates):
            return CheckResult.PASSED
        return CheckResult.FAILED


class SignalRHasManagedIdentity(_SignalRCheck):
    def __init__(self) -> None:
        super().__init__(
            "Ensure Azure SignalR Service has a managed identity",
            "CKV_CHAT_4",
            CheckCategories.IAM,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        kind = _get(conf, "identity", "type")
        if kind in ("SystemAssigned", "UserAssigned", "SystemAssigned, UserAssigned"):
            return CheckResult.PASSED
        return CheckResult.FAILED


class SignalRCorsIsExplicit(_SignalRCheck):
    def __init__(self) -> None:
        super().__init__(
            "Ensure Azure SignalR Service CORS names its allowed origins",
            "CKV_CHAT_5",
            CheckCategories.NETWORKING,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        origins = _get(conf, "properties", "cors", "allowedOrigins")
        if origins is None or "'*'" in repr(origins):
            return CheckResult.FAILED
        return CheckResult.PASSED


checks = (
    SignalRIsServerless(),
    SignalRUpstreamKeyFromKeyVault(),
    SignalRUpstreamUsesManagedIdentity(),
    SignalRHasManagedIdentity(),
    SignalRCorsIsExplicit(),
)
