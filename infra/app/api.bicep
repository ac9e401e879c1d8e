// The chat's Function App: Python on Linux, Linux Consumption (Y1) by default or Flex Consumption
// (FC1), with a system-assigned identity that reaches SignalR, storage, Key Vault and
// Application Insights without keys (except host storage on Linux Consumption, see storage.bicep).
//
// The Functions host stores its own keys in Key Vault (AzureWebJobsSecretStorageType=keyvault).
// That is what lets signalr.bicep point the upstream at the signalr_extension system key by a
// fixed secret name before the first deployment has finished.

@description('Function App name.')
param name string

@description('App Service plan name.')
param planName string

@description('Azure region.')
param location string

@description('Tags for every resource; the site adds azd-service-name.')
param tags object

@description('Service name in azure.yaml; azd deploy finds the site by this tag.')
param serviceName string = 'api'

@description('consumption = Linux Consumption (Y1), flexconsumption = Flex Consumption (FC1).')
@allowed([
  'consumption'
  'flexconsumption'
])
param hostingPlan string = 'consumption'

@description('Python version of the Functions worker.')
@allowed([
  '3.11'
  '3.12'
])
param pythonVersion string = '3.11'

@description('Host storage account (created by storage.bicep).')
param storageAccountName string

@description('Blob container for the Flex Consumption deployment package.')
param deploymentContainerName string

@description('Key Vault that holds the host keys (created by keyvault.bicep).')
param keyVaultName string

@description('Application Insights connection string (not a secret: local auth is off).')
param applicationInsightsConnectionString string

@description('https://<signalr name>.service.signalr.net, for the identity-based connection.')
param signalRServiceUri string

@description('Comma-separated user ids allowed to run admin actions (CHAT_ADMINS).')
param chatAdmins string = ''

@description('Longest chat message accepted, in characters (CHAT_MAX_MESSAGE_LENGTH).')
@minValue(1)
param chatMaxMessageLength int = 2000

@description('Messages of room history kept for late joiners (CHAT_HISTORY_SIZE); 0 keeps the app default.')
@minValue(0)
param chatHistorySize int = 0

@description('NCRONTAB schedule (six fields) of the presence reconcile timer (CHAT_RECONCILE_SCHEDULE).')
param chatReconcileSchedule string = '0 */1 * * * *'

@description('CDN URL of the SignalR browser client used as a fallback (SIGNALR_CLIENT_URL); empty keeps the app default.')
param signalRClientUrl string = ''

@description('Turn on App Service Authentication with Microsoft Entra ID.')
param enableAppServiceAuth bool = false

@description('Client id of the Entra app registration used by App Service Authentication.')
param authClientId string = ''

@secure()
@description('Client secret of that app registration; stored in Key Vault. Empty uses the implicit id-token flow.')
param authClientSecret string = ''

@description('Most instances Flex Consumption may scale out to.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Memory of each Flex Consumption instance.')
@allowed([
  2048
  4096
])
param instanceMemoryMB int = 2048

var isFlex = hostingPlan == 'flexconsumption'
var authSecretName = 'auth-client-secret'
var useAuthSecret = enableAppServiceAuth && !empty(authClientSecret)

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: isFlex ? 'functionapp' : 'functionapp,linux'
  sku: isFlex ? {
    name: 'FC1'
    tier: 'FlexConsumption'
  } : {
    name: 'Y1'
    tier: 'Dynamic'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, {
    'azd-service-name': serviceName
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientCertEnabled: false
    publicNetworkAccess: 'Enabled'
    siteConfig: {
      linuxFxVersion: isFlex ? null : 'Python|${pythonVersion}'
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      remoteDebuggingEnabled: false
    }
    functionAppConfig: isFlex ? {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'SystemAssignedIdentity'
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'python'
        version: pythonVersion
      }
    } : null
  }

  resource ftpCredentials 'basicPublishingCredentialsPolicies' = {
    name: 'ftp'
    properties: {
      allow: false
    }
  }
}

// Linux Consumption: zip deploy reads this connection string on the client to upload the package,
// so it must stay a plain connection string (no Key Vault reference, no identity form).
var consumptionSettings = {
  AzureWebJobsStorage: 'DefaultEndpointsProtocol=https;AccountName=${storage.name};AccountKey=${storage.listKeys().keys[0].value};EndpointSuffix=${environment().suffixes.storage}'
  FUNCTIONS_EXTENSION_VERSION: '~4'
  FUNCTIONS_WORKER_RUNTIME: 'python'
  SCM_DO_BUILD_DURING_DEPLOYMENT: 'true'
  ENABLE_ORYX_BUILD: 'true'
}

// Flex Consumption: identity-based host storage; blobs, queues and tables (Durable entities).
var flexSettings = {
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
  AzureWebJobsStorage__queueServiceUri: storage.properties.primaryEndpoints.queue
  AzureWebJobsStorage__tableServiceUri: storage.properties.primaryEndpoints.table
}

var commonSettings = {
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD'
  AzureWebJobsSecretStorageType: 'keyvault'
  AzureWebJobsSecretStorageKeyVaultUri: vault.properties.vaultUri
  AzureSignalRConnectionString__serviceUri: signalRServiceUri
  CHAT_ADMINS: chatAdmins
  CHAT_MAX_MESSAGE_LENGTH: string(chatMaxMessageLength)
  CHAT_RECONCILE_SCHEDULE: chatReconcileSchedule
}

var historySettings = chatHistorySize > 0 ? {
  CHAT_HISTORY_SIZE: string(chatHistorySize)
} : {}

var clientUrlSettings = empty(signalRClientUrl) ? {} : {
  SIGNALR_CLIENT_URL: signalRClientUrl
}

var authSettings = useAuthSecret ? {
  MICROSOFT_PROVIDER_AUTHENTICATION_SECRET: '@Microsoft.KeyVault(SecretUri=${vault.properties.vaultUri}secrets/${authSecretName}/)'
} : {}

resource authSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (useAuthSecret) {
  parent: vault
  name: authSecretName
  properties: {
    value: authClientSecret
    contentType: 'text/plain'
  }
}

resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: union(isFlex ? flexSettings : consumptionSettings, commonSettings, historySettings, clientUrlSettings, authSettings)
}

// App Service Authentication. The SignalR upstream webhook is excluded: SignalR calls it with the
// signalr_extension key and a managed-identity token, never with a user's login cookie.
resource auth 'Microsoft.Web/sites/config@2024-04-01' = if (enableAppServiceAuth) {
  parent: site
  name: 'authsettingsV2'
  dependsOn: [
    appSettings
  ]
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'RedirectToLoginPage'
      redirectToProvider: 'azureactivedirectory'
      excludedPaths: [
        '/runtime/webhooks/signalr'
      ]
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: authClientId
          clientSecretSettingName: useAuthSecret ? 'MICROSOFT_PROVIDER_AUTHENTICATION_SECRET' : null
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
        }
        validation: {
          allowedAudiences: [
            'api://${authClientId}'
          ]
        }
      }
    }
  }
}

output name string = site.name
output id string = site.id
output defaultHostName string = site.properties.defaultHostName
output principalId string = site.identity.principalId
output uri string = 'https://${site.properties.defaultHostName}'
