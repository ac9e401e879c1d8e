// Azure SignalR Service in Serverless mode for the `chat` hub.
//
// Client invocations reach the Function App through one upstream template pointing at the
// SignalR trigger's webhook, /runtime/webhooks/signalr?code=<signalr_extension system key>.
// The key is never written here: `code=` is a Key Vault reference to the secret in which the
// Functions host stores that key, and SignalR resolves it with its own managed identity
// (re-read every 30 minutes, or at once when the upstream settings change:
// https://learn.microsoft.com/azure/azure-signalr/concept-upstream).
// Each upstream call also carries a managed-identity bearer token (auth type ManagedIdentity).

@description('SignalR Service name (globally unique, 3-63 characters).')
@minLength(3)
@maxLength(63)
param name string

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object

@description('Pricing tier: Standard_S1 (1,000 connections a unit, SLA) or Free_F1 (20 connections, no SLA).')
@allowed([
  'Standard_S1'
  'Free_F1'
])
param sku string = 'Standard_S1'

@description('Units; Free_F1 always has exactly 1.')
@minValue(1)
@maxValue(100)
param capacity int = 1

@description('Hub that the upstream template serves.')
param hubName string = 'chat'

@description('Host name of the Function App (properties.defaultHostName).')
param functionAppHostName string

@description('Vault URI (ends with a slash) of the Key Vault holding the Functions host keys.')
param keyVaultUri string

@description('Browser origins allowed by CORS; the Function App origin is always included.')
param allowedOrigins array = []

@description('Audience (resource) of the managed-identity token sent upstream; empty for the service default.')
param upstreamTokenAudience string = ''

@description('Turn off access-key auth. The app itself only uses Entra ID (AzureSignalRConnectionString__serviceUri).')
param disableLocalAuth bool = false

// Name the Functions host gives the signalr_extension system key in Key Vault: "_" is escaped as
// "-095" (Azure/azure-functions-host KeyVaultSecretsRepository.cs). The host owns this secret.
var systemKeySecretName = 'host--systemKey--signalr-095extension'
var systemKeySecretUri = '${keyVaultUri}secrets/${systemKeySecretName}/'
var upstreamUrl = 'https://${functionAppHostName}/runtime/webhooks/signalr?code={@Microsoft.KeyVault(SecretUri=${systemKeySecretUri})}'

resource signalR 'Microsoft.SignalRService/signalR@2024-03-01' = {
  name: name
  location: location
  tags: tags
  kind: 'SignalR'
  sku: {
    name: sku
    capacity: sku == 'Free_F1' ? 1 : capacity
  }
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    features: [
      {
        flag: 'ServiceMode'
        value: 'Serverless'
      }
      {
        flag: 'EnableConnectivityLogs'
        value: 'True'
      }
    ]
    cors: {
      allowedOrigins: union([
        'https://${functionAppHostName}'
      ], allowedOrigins)
    }
    upstream: {
      templates: [
        {
          hubPattern: hubName
          categoryPattern: '*'
          eventPattern: '*'
          urlTemplate: upstreamUrl
          auth: {
            type: 'ManagedIdentity'
            managedIdentity: {
              resource: upstreamTokenAudience
            }
          }
        }
      ]
    }
    tls: {
      clientCertEnabled: false
    }
    publicNetworkAccess: 'Enabled'
    disableLocalAuth: disableLocalAuth
    disableAadAuth: false
  }
}

output name string = signalR.name
output id string = signalR.id
output hostName string = signalR.properties.hostName
output principalId string = signalR.identity.principalId
output systemKeySecretName string = systemKeySecretName
