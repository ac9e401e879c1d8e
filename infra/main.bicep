// Deploys the serverless chat: a Python Function App and Azure SignalR Service in Serverless mode,
// with storage, monitoring and a Key Vault that keeps the Functions host keys, so that SignalR's
// upstream reaches the SignalR trigger with the signalr_extension key in a single `azd up`.
//
// Subscription scope: creates rg-<environmentName> and deploys the modules in infra/app/ into it.
// Names are <abbreviation><resourceToken> (abbreviations.json), the shape azd templates use.

targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; names the resource group and seeds every resource name.')
param environmentName string

@minLength(1)
@description('Azure region for every resource.')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Object id of the deploying user, given data-plane roles for local debugging; empty to skip.')
param principalId string = ''

@description('Kind of principal principalId is: User, or ServicePrincipal when azd runs in CI.')
@allowed([
  'User'
  'ServicePrincipal'
])
param principalType string = 'User'

@description('consumption = Linux Consumption (Y1, SignalR webhook triggers known to work); flexconsumption = Flex Consumption (FC1, see infra/README.md for the webhook caveat).')
@allowed([
  'consumption'
  'flexconsumption'
])
param hostingPlan string = 'consumption'

@description('SignalR Service tier.')
@allowed([
  'Standard_S1'
  'Free_F1'
])
param signalRSku string = 'Standard_S1'

@description('SignalR Service units (Standard_S1 only).')
@minValue(1)
@maxValue(100)
param signalRCapacity int = 1

@description('Python version of the Functions worker.')
@allowed([
  '3.11'
  '3.12'
])
param pythonVersion string = '3.11'

@description('Comma-separated user ids with admin rights in the chat (CHAT_ADMINS).')
param chatAdmins string = ''

@description('Longest chat message accepted, in characters (CHAT_MAX_MESSAGE_LENGTH).')
@minValue(1)
param chatMaxMessageLength int = 2000

@description('Room history size (CHAT_HISTORY_SIZE); 0 keeps the app default.')
@minValue(0)
param chatHistorySize int = 0

@description('NCRONTAB schedule (six fields) of the presence reconcile timer (CHAT_RECONCILE_SCHEDULE).')
param chatReconcileSchedule string = '0 */1 * * * *'

@description('CDN fallback URL of the SignalR browser client (SIGNALR_CLIENT_URL); empty keeps the app default.')
param signalRClientUrl string = ''

@description('Extra browser origins allowed by SignalR CORS; the Function App origin is always allowed.')
param allowedOrigins array = []

@description('Turn on App Service Authentication (Microsoft Entra ID); needs authClientId.')
param enableAppServiceAuth bool = false

@description('Client id of an existing Entra app registration for App Service Authentication.')
param authClientId string = ''

@secure()
@description('Client secret of that app registration (stored in Key Vault); empty for the id-token flow.')
param authClientSecret string = ''

@description('Audience of the managed-identity token SignalR sends upstream; empty uses authClientId when authentication is on, else the service default.')
param upstreamTokenAudience string = ''

@description('Turn off SignalR access keys. The app uses Entra ID only, but see infra/README.md before turning this on.')
param signalRDisableLocalAuth bool = false

var abbrs = loadJsonContent('./abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var serviceName = 'api'
var hubName = 'chat'
var functionAppName = '${abbrs.webSitesFunctions}${resourceToken}'
var signalRName = '${abbrs.signalRServiceSignalR}${resourceToken}'
var tokenAudience = !empty(upstreamTokenAudience) ? upstreamTokenAudience : (enableAppServiceAuth ? authClientId : '')

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

module monitoring './app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    applicationInsightsName: '${abbrs.insightsComponents}${resourceToken}'
    location: location
    tags: tags
  }
}

module storage './app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}${resourceToken}'
    location: location
    tags: tags
    allowSharedKeyAccess: hostingPlan == 'consumption'
  }
}

module keyVault './app/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    name: '${abbrs.keyVaultVaults}${resourceToken}'
    location: location
    tags: tags
  }
}

module api './app/api.bicep' = {
  name: 'api'
  scope: rg
  params: {
    name: functionAppName
    planName: '${abbrs.webServerFarms}${resourceToken}'
    location: location
    tags: tags
    serviceName: serviceName
    hostingPlan: hostingPlan
    pythonVersion: pythonVersion
    storageAccountName: storage.outputs.name
    deploymentContainerName: storage.outputs.deploymentContainerName
    keyVaultName: keyVault.outputs.name
    applicationInsightsConnectionString: monitoring.outputs.applicationInsightsConnectionString
    signalRServiceUri: 'https://${signalRName}.service.signalr.net'
    chatAdmins: chatAdmins
    chatMaxMessageLength: chatMaxMessageLength
    chatHistorySize: chatHistorySize
    chatReconcileSchedule: chatReconcileSchedule
    signalRClientUrl: signalRClientUrl
    enableAppServiceAuth: enableAppServiceAuth
    authClientId: authClientId
    authClientSecret: authClientSecret
  }
}

module signalR './app/signalr.bicep' = {
  name: 'signalr'
  scope: rg
  params: {
    name: signalRName
    location: location
    tags: tags
    sku: signalRSku
    capacity: signalRCapacity
    hubName: hubName
    functionAppHostName: api.outputs.defaultHostName
    keyVaultUri: keyVault.outputs.uri
    allowedOrigins: allowedOrigins
    upstreamTokenAudience: tokenAudience
    disableLocalAuth: signalRDisableLocalAuth
  }
}

module rbac './app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    appPrincipalId: api.outputs.principalId
    signalRPrincipalId: signalR.outputs.principalId
    userPrincipalId: principalId
    userPrincipalType: principalType
    signalRName: signalR.outputs.name
    keyVaultName: keyVault.outputs.name
    storageAccountName: storage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
  }
}

// azd saves these in .azure/<env>/.env. None of them is a secret.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output SERVICE_API_NAME string = api.outputs.name
output AZURE_FUNCTION_NAME string = api.outputs.name
output SIGNALR_NAME string = signalR.outputs.name
output SIGNALR_HOSTNAME string = signalR.outputs.hostName
output KEY_VAULT_NAME string = keyVault.outputs.name
output KEY_VAULT_URI string = keyVault.outputs.uri
output SIGNALR_KEY_SECRET_NAME string = signalR.outputs.systemKeySecretName
output CHAT_URL string = '${api.outputs.uri}/api/index'
