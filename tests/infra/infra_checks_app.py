"""Contract checks for the Function App module (infra/app/api.bicep)."""

from __future__ import annotations

from tests.infra.infra_check_tools import (
    UPSTREAM_PATH,
    allowed_values,
    check,
    expect,
    get,
    single,
)
from tests.infra.infra_model import Infra, body

__all__: list[str] = []  # checks register themselves in infra_check_tools.CHECKS

# --- Function App -------------------------------------------------------------------------


@check
def check_function_app_hardening(infra: Infra) -> list[str]:
    problems: list[str] = []
    api = infra.module_file("api")
    site = single(api, "Microsoft.Web/sites", problems)
    expect(problems, get(site, "properties", "httpsOnly") is True, "site must be httpsOnly")
    site_config = get(site, "properties", "siteConfig") or {}
    expect(problems, site_config.get("minTlsVersion") == "1.2", "site minTlsVersion must be 1.2")
    expect(problems, site_config.get("scmMinTlsVersion") == "1.2", "scm minTlsVersion must be 1.2")
    expect(problems, site_config.get("ftpsState") == "Disabled", "FTPS must be Disabled")
    expect(problems, site_config.get("remoteDebuggingEnabled") is False, "remote debugging off")
    expect(
        problems,
        get(site, "identity", "type") == "SystemAssigned",
        "site needs a system-assigned identity",
    )
    ftp = [
        b
        for _, b in api.resources_of_type("Microsoft.Web/sites/basicPublishingCredentialsPolicies")
        if b.get("name") == "ftp"
    ]
    expect(
        problems,
        len(ftp) == 1 and get(ftp[0], "properties", "allow") is False,
        "FTP basic publishing credentials must be disabled",
    )
    return problems


@check
def check_function_app_runtime_and_plan(infra: Infra) -> list[str]:
    problems: list[str] = []
    api = infra.module_file("api")
    for source in (api, infra.main):
        spec = source.parameters.get("hostingPlan", {})
        allowed = allowed_values(source, "hostingPlan")
        expect(
            problems,
            allowed == ["consumption", "flexconsumption"],
            f"{source.path.name}: hostingPlan must allow consumption and flexconsumption",
        )
        expect(
            problems,
            spec.get("default") == "consumption",
            f"{source.path.name}: hostingPlan must default to Linux Consumption",
        )
        expect(
            problems,
            source.parameters.get("pythonVersion", {}).get("default") == "3.11",
            f"{source.path.name}: pythonVersion must default to 3.11",
        )
    plan = single(api, "Microsoft.Web/serverfarms", problems)
    skus = repr(plan.get("sku"))
    for needle in ("'Y1'", "'Dynamic'", "'FC1'", "'FlexConsumption'"):
        expect(problems, needle in skus, f"plan SKU choice must include {needle}")
    expect(problems, get(plan, "properties", "reserved") is True, "plan must be Linux (reserved)")
    site = single(api, "Microsoft.Web/sites", problems)
    expect(problems, site.get("kind") == "functionapp,linux", "site kind must be functionapp,linux")
    fx = repr(get(site, "properties", "siteConfig", "linuxFxVersion"))
    expect(
        problems, "Python|${pythonVersion}" in fx, "Linux Consumption needs linuxFxVersion Python|x"
    )
    runtime = repr(get(site, "properties", "functionAppConfig"))
    expect(
        problems,
        "'name': 'python'" in runtime and "'version': 'pythonVersion'" in runtime,
        "Flex Consumption needs functionAppConfig.runtime python/pythonVersion",
    )
    return problems


@check
def check_function_app_settings(infra: Infra) -> list[str]:
    problems: list[str] = []
    api = infra.module_file("api")
    common = api.resolve(api.variables.get("commonSettings", {}).get("value")) or {}
    flex = api.resolve(api.variables.get("flexSettings", {}).get("value")) or {}
    required = {
        "AzureWebJobsSecretStorageType": "keyvault",
        "APPLICATIONINSIGHTS_AUTHENTICATION_STRING": "Authorization=AAD",
    }
    for key, value in required.items():
        expect(problems, common.get(key) == value, f"app setting {key} must be {value!r}")
    for key in (
        "AzureWebJobsSecretStorageKeyVaultUri",
        "AzureSignalRConnectionString__serviceUri",
        "APPLICATIONINSIGHTS_CONNECTION_STRING",
        "CHAT_ADMINS",
        "CHAT_MAX_MESSAGE_LENGTH",
        "CHAT_RECONCILE_SCHEDULE",  # the timer's %setting%: Azure indexes no timer without it
    ):
        expect(problems, key in common, f"app setting {key} is missing")
    expect(
        problems,
        "AzureSignalRConnectionString" not in common,
        "use the identity-based AzureSignalRConnectionString__serviceUri form, not a key",
    )
    expect(
        problems,
        flex.get("AzureWebJobsStorage__credential") == "managedidentity",
        "Flex Consumption host storage must be identity-based",
    )
    for service in ("blob", "queue", "table"):
        expect(
            problems,
            f"AzureWebJobsStorage__{service}ServiceUri" in flex,
            f"Flex Consumption needs AzureWebJobsStorage__{service}ServiceUri",
        )
    expect(problems, "AzureWebJobsStorage" not in flex, "no storage connection string on Flex")
    settings = [
        b
        for _, b in api.resources_of_type("Microsoft.Web/sites/config")
        if b.get("name") == "appsettings"
    ]
    expect(
        problems,
        len(settings) == 1 and "commonSettings" in repr(settings[0].get("properties")),
        "the appsettings resource must apply commonSettings",
    )
    main_api = body(infra.main.modules.get("api", {"config": {}})).get("params", {})
    expect(
        problems,
        main_api.get("signalRServiceUri") == "https://${signalRName}.service.signalr.net",
        "main.bicep must pass the SignalR service URI to the app",
    )
    return problems


@check
def check_function_app_service_tag(infra: Infra) -> list[str]:
    problems: list[str] = []
    api = infra.module_file("api")
    site = single(api, "Microsoft.Web/sites", problems)
    tags = repr(site.get("tags"))
    expect(
        problems,
        "\"'azd-service-name'\": 'serviceName'" in tags,
        "site must be tagged azd-service-name: serviceName",
    )
    main_value = infra.main.resolve(body(infra.main.modules["api"])["params"].get("serviceName"))
    services = infra.azure_yaml.get("services", {})
    expect(
        problems,
        list(services) == [main_value],
        f"azure.yaml services {list(services)} must be exactly the tagged service {main_value!r}",
    )
    return problems


@check
def check_app_service_auth(infra: Infra) -> list[str]:
    problems: list[str] = []
    api = infra.module_file("api")
    auth = [
        s
        for s, b in api.resources_of_type("Microsoft.Web/sites/config")
        if b.get("name") == "authsettingsV2"
    ]
    if len(auth) != 1:
        return ["expected one authsettingsV2 resource"]
    expect(
        problems,
        api.condition(auth[0]) == "enableAppServiceAuth",
        "App Service Authentication must be switched by enableAppServiceAuth",
    )
    validation = get(api.resource_body(auth[0]), "properties", "globalValidation") or {}
    expect(problems, validation.get("requireAuthentication") is True, "auth must be required")
    expect(
        problems,
        UPSTREAM_PATH in (validation.get("excludedPaths") or []),
        "the SignalR webhook must be excluded from App Service Authentication",
    )
    expect(
        problems,
        infra.main.parameters.get("enableAppServiceAuth", {}).get("default") is False,
        "App Service Authentication must be optional (default off)",
    )
    return problems
