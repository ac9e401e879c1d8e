#!/usr/bin/env bash
# Deploy the serverless chat to Azure with the Azure CLI alone: the original sample's manual steps
# (create, publish, fetch the key, point the upstream at it, turn on managed-identity auth), done
# by a script. The result matches `azd up` with its defaults (Linux Consumption); for Flex
# Consumption use azd (HOSTING_PLAN=flexconsumption azd up).
#
# Usage (from anywhere; the app is the repository root):
#   infra/deploy.sh up    [--name NAME] [--location LOCATION] [--sku Standard_S1|Free_F1]
#   infra/deploy.sh down  [--name NAME] [--purge]
#   infra/deploy.sh url   [--name NAME]
#   add --dry-run to any command to print the az commands instead of running them.
#
# Environment (flags win): CHAT_ENV_NAME (default: chat), AZURE_LOCATION (default: eastus, or
# the resource group's location once it exists), SIGNALR_SKU (default: Standard_S1), and the app
# settings with infra/main.bicep's defaults: CHAT_ADMINS (empty), CHAT_MAX_MESSAGE_LENGTH (2000),
# CHAT_HISTORY_SIZE (0: the app default), CHAT_RECONCILE_SCHEDULE (0 */1 * * * *: every minute),
# SIGNALR_CLIENT_URL (empty: the app default).
#
# Resource names depend on the subscription and NAME only, never on the location, so up, url and
# down always address the same resources.
#
# Non-interactive and idempotent: every step creates what is missing and updates what exists, so
# a second run after a failure picks up where the first stopped. Never prints keys, connection
# strings or tokens: commands that could return one run with `-o none` or a narrow --query.
set -euo pipefail

readonly SECRET_NAME='host--systemKey--signalr-095extension'  # signalr_extension, as the host names it
readonly HUB='chat'
readonly SIGNALR_API='2024-03-01'
readonly PYTHON_VERSION='3.11'
readonly KEY_WAIT_SECONDS=600
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_ROOT

# Built-in role definition ids (infra/app/rbac.bicep has the same table).
readonly ROLE_SIGNALR_OWNER='7e4f1700-ea5a-4f59-8f37-079cfe29dce3'
readonly ROLE_SECRETS_OFFICER='b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
readonly ROLE_SECRETS_USER='4633458b-17de-408a-b874-0445c86b69e6'
readonly ROLE_METRICS_PUBLISHER='3913510d-42f4-4e42-8a64-420c390055eb'
readonly ROLE_BLOB_OWNER='b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
readonly ROLE_QUEUE_CONTRIBUTOR='974c5e8b-45b9-4653-ba55-5f855dd0fb88'
readonly ROLE_TABLE_CONTRIBUTOR='0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'

ENV_NAME="${CHAT_ENV_NAME:-chat}"
LOCATION="${AZURE_LOCATION:-}"  # empty: the resource group's location, else DEFAULT_LOCATION
readonly DEFAULT_LOCATION='eastus'
SKU="${SIGNALR_SKU:-Standard_S1}"
# The app settings, with the defaults of infra/main.bicep (tests/infra compares the two).
ADMINS="${CHAT_ADMINS:-}"
MAX_LENGTH="${CHAT_MAX_MESSAGE_LENGTH:-2000}"
HISTORY_SIZE="${CHAT_HISTORY_SIZE:-0}"
RECONCILE_SCHEDULE="${CHAT_RECONCILE_SCHEDULE:-0 */1 * * * *}"
CLIENT_URL="${SIGNALR_CLIENT_URL:-}"
DRY_RUN=0
PURGE=0

# Keep az quiet and non-interactive without touching the user's az configuration.
export AZURE_CORE_ONLY_SHOW_ERRORS=true
export AZURE_CORE_NO_COLOR=true
export AZURE_EXTENSION_USE_DYNAMIC_INSTALL=yes_without_prompt

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'deploy.sh: %s\n' "$*" >&2; exit 1; }

usage() {
  sed -n '8,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# run CMD...: run a command whose output we do not need (dry run: print it).
# show CMD...: the command as the dry run prints it; a one-line word with spaces is quoted.
show() {
  local word line='+'
  for word in "$@"; do
    if [[ "${word}" == *' '* && "${word}" != *$'\n'* ]]; then
      line+=" '${word}'"
    else
      line+=" ${word}"
    fi
  done
  printf '%s\n' "${line}"
}

run() {
  if ((DRY_RUN)); then
    show "$@"
    return 0
  fi
  "$@"
}

# capture PLACEHOLDER CMD...: print the command's output (dry run: print the command on stderr
# and PLACEHOLDER on stdout, so later steps can be shown with a stand-in value).
capture() {
  local placeholder="$1"
  shift
  if ((DRY_RUN)); then
    show "$@" >&2
    printf '%s\n' "${placeholder}"
    return 0
  fi
  "$@"
}

# exists CMD...: true when the command succeeds (a `show`); dry run assumes nothing exists yet.
exists() {
  if ((DRY_RUN)); then
    printf '+ %s\n' "$*" >&2
    return 1
  fi
  "$@" >/dev/null 2>&1
}

parse_args() {
  COMMAND="${1:-}"
  [[ -n "${COMMAND}" ]] || usage
  shift
  while (($#)); do
    case "$1" in
      --name) ENV_NAME="${2:?--name needs a value}"; shift 2 ;;
      --location) LOCATION="${2:?--location needs a value}"; shift 2 ;;
      --sku) SKU="${2:?--sku needs a value}"; shift 2 ;;
      --purge) PURGE=1; shift ;;
      --dry-run) DRY_RUN=1; shift ;;
      -h|--help) usage ;;
      *) die "unknown argument: $1" ;;
    esac
  done
  [[ "${ENV_NAME}" =~ ^[a-z0-9][a-z0-9-]{0,39}$ ]] || die "--name must be lowercase letters, digits and dashes (max 40)"
  [[ "${SKU}" == Standard_S1 || "${SKU}" == Free_F1 ]] || die "--sku must be Standard_S1 or Free_F1"
  [[ "${MAX_LENGTH}" =~ ^[1-9][0-9]*$ ]] || die "CHAT_MAX_MESSAGE_LENGTH must be a positive integer"
  [[ "${HISTORY_SIZE}" =~ ^[0-9]+$ ]] || die "CHAT_HISTORY_SIZE must be 0 or a positive integer"
}

# Names follow infra/abbreviations.json; the token plays the part of Bicep's resourceToken. It
# hashes the subscription and the environment name only: a subscription holds one rg-NAME, so the
# location adds nothing, and leaving it out lets url and down find what up created without being
# told the location again (down --purge must name the vault that up created).
derive_names() {
  local subscription token
  subscription="$(capture 00000000-0000-0000-0000-000000000000 az account show --query id -o tsv)"
  token="$(printf '%s|%s' "${subscription}" "${ENV_NAME}" | sha256sum | cut -c1-13)"
  RG="rg-${ENV_NAME}"
  STORAGE="st${token}"
  LOGS="log-${token}"
  INSIGHTS="appi-${token}"
  VAULT="kv-${token}"
  APP="func-${token}"
  SIGNALR="sigr-${token}"
}

require_tools() {
  ((DRY_RUN)) && return 0
  command -v az >/dev/null || die "the Azure CLI (az) is required: https://aka.ms/azure-cli"
  command -v zip >/dev/null || die "zip is required to package the app"
  az account show -o none 2>/dev/null || die "not logged in: run 'az login' first"
}

# assign_role PRINCIPAL_ID TYPE ROLE_ID SCOPE: create the assignment unless it exists.
assign_role() {
  local principal="$1" type="$2" role="$3" scope="$4" count
  # Filter on ids rather than --assignee, which needs directory read access to resolve.
  count="$(capture 0 az role assignment list --scope "${scope}" \
    --query "length([?principalId=='${principal}' && ends_with(roleDefinitionId, '${role}')])" -o tsv)"
  if [[ "${count}" == 0 ]]; then
    run az role assignment create --assignee-object-id "${principal}" \
      --assignee-principal-type "${type}" --role "${role}" --scope "${scope}" -o none
  fi
}

# The location: the resource group's if it exists (a group cannot move), else the one asked for.
choose_location() {
  local existing
  existing="$(capture "" az group list --query "[?name=='${RG}'].location" -o tsv)"
  if [[ -n "${existing}" && -n "${LOCATION}" && "${existing}" != "${LOCATION}" ]]; then
    die "${RG} already exists in ${existing}, not ${LOCATION}: drop --location or choose another --name"
  fi
  LOCATION="${existing:-${LOCATION:-${DEFAULT_LOCATION}}}"
}

create_foundation() {
  log "resource group ${RG} (${LOCATION})"
  run az group create --name "${RG}" --location "${LOCATION}" --tags "azd-env-name=${ENV_NAME}" -o none

  log "storage ${STORAGE} (Linux Consumption deploys through its connection string)"
  run az storage account create --name "${STORAGE}" --resource-group "${RG}" \
    --location "${LOCATION}" --sku Standard_LRS --kind StorageV2 --min-tls-version TLS1_2 \
    --https-only true --allow-blob-public-access false -o none

  log "Log Analytics ${LOGS} and Application Insights ${INSIGHTS} (Entra-only ingestion)"
  run az monitor log-analytics workspace create --resource-group "${RG}" \
    --workspace-name "${LOGS}" --location "${LOCATION}" --retention-time 30 -o none
  WORKSPACE_ID="$(capture "<workspace-id>" az monitor log-analytics workspace show \
    --resource-group "${RG}" --workspace-name "${LOGS}" --query id -o tsv)"
  run az resource create --resource-group "${RG}" --name "${INSIGHTS}" \
    --resource-type Microsoft.Insights/components --api-version 2020-02-02 --is-full-object \
    --properties "{\"location\":\"${LOCATION}\",\"kind\":\"web\",\"properties\":{\"Application_Type\":\"web\",\"WorkspaceResourceId\":\"${WORKSPACE_ID}\",\"DisableLocalAuth\":true}}" \
    -o none

  log "Key Vault ${VAULT} (RBAC; the Functions host keeps its keys there)"
  if ! exists az keyvault show --name "${VAULT}" --resource-group "${RG}"; then
    if [[ -n "$(capture "" az keyvault list-deleted --query "[?name=='${VAULT}'].name" -o tsv)" ]]; then
      run az keyvault recover --name "${VAULT}" -o none
    else
      run az keyvault create --name "${VAULT}" --resource-group "${RG}" --location "${LOCATION}" \
        --enable-rbac-authorization true --retention-days 7 -o none
    fi
  fi
  VAULT_URI="$(capture "https://${VAULT}.vault.azure.net/" az keyvault show --name "${VAULT}" \
    --query properties.vaultUri -o tsv)"
}

create_function_app() {
  log "Function App ${APP} (Python ${PYTHON_VERSION}, Linux Consumption)"
  if ! exists az functionapp show --name "${APP}" --resource-group "${RG}"; then
    run az functionapp create --name "${APP}" --resource-group "${RG}" \
      --storage-account "${STORAGE}" --consumption-plan-location "${LOCATION}" --os-type Linux \
      --runtime python --runtime-version "${PYTHON_VERSION}" --functions-version 4 \
      --disable-app-insights true -o none
  fi
  run az functionapp update --name "${APP}" --resource-group "${RG}" --set httpsOnly=true -o none
  run az functionapp config set --name "${APP}" --resource-group "${RG}" --ftps-state Disabled \
    --min-tls-version 1.2 --http20-enabled true --remote-debugging-enabled false -o none
  run az resource update --resource-group "${RG}" --namespace Microsoft.Web \
    --parent "sites/${APP}" --resource-type basicPublishingCredentialsPolicies --name ftp \
    --set properties.allow=false -o none
  APP_PRINCIPAL="$(capture "<app-principal-id>" az functionapp identity assign --name "${APP}" \
    --resource-group "${RG}" --query principalId -o tsv)"
  APP_HOST="$(capture "${APP}.azurewebsites.net" az functionapp show --name "${APP}" \
    --resource-group "${RG}" --query defaultHostName -o tsv)"
}

create_signalr() {
  log "SignalR Service ${SIGNALR} (${SKU}, Serverless)"
  if ! exists az signalr show --name "${SIGNALR}" --resource-group "${RG}"; then
    run az signalr create --name "${SIGNALR}" --resource-group "${RG}" --location "${LOCATION}" \
      --sku "${SKU}" --unit-count 1 --service-mode Serverless \
      --allowed-origins "https://${APP_HOST}" -o none
  fi
  SIGNALR_PRINCIPAL="$(capture "<signalr-principal-id>" az signalr identity assign \
    --name "${SIGNALR}" --resource-group "${RG}" --identity '[system]' --query principalId -o tsv)"
  SIGNALR_ID="$(capture "<signalr-id>" az signalr show --name "${SIGNALR}" --resource-group "${RG}" \
    --query id -o tsv)"
}

grant_roles() {
  log "role assignments (managed identities only)"
  local vault_id insights_id storage_id
  vault_id="$(capture "<vault-id>" az keyvault show --name "${VAULT}" --query id -o tsv)"
  storage_id="$(capture "<storage-id>" az storage account show --name "${STORAGE}" \
    --resource-group "${RG}" --query id -o tsv)"
  insights_id="$(capture "<insights-id>" az resource show --resource-group "${RG}" \
    --name "${INSIGHTS}" --resource-type Microsoft.Insights/components --query id -o tsv)"
  assign_role "${APP_PRINCIPAL}" ServicePrincipal "${ROLE_SIGNALR_OWNER}" "${SIGNALR_ID}"
  assign_role "${APP_PRINCIPAL}" ServicePrincipal "${ROLE_SECRETS_OFFICER}" "${vault_id}"
  assign_role "${APP_PRINCIPAL}" ServicePrincipal "${ROLE_METRICS_PUBLISHER}" "${insights_id}"
  assign_role "${SIGNALR_PRINCIPAL}" ServicePrincipal "${ROLE_SECRETS_USER}" "${vault_id}"
  # Host storage over the identity, as infra/app/rbac.bicep grants on every plan.
  assign_role "${APP_PRINCIPAL}" ServicePrincipal "${ROLE_BLOB_OWNER}" "${storage_id}"
  assign_role "${APP_PRINCIPAL}" ServicePrincipal "${ROLE_QUEUE_CONTRIBUTOR}" "${storage_id}"
  assign_role "${APP_PRINCIPAL}" ServicePrincipal "${ROLE_TABLE_CONTRIBUTOR}" "${storage_id}"
}

configure_app() {
  log "app settings (identity-based SignalR connection, host keys in Key Vault)"
  local connection optional=()
  # As in infra/app/api.bicep: set only when they change the app's default.
  if ((HISTORY_SIZE > 0)); then
    optional+=("CHAT_HISTORY_SIZE=${HISTORY_SIZE}")
  fi
  if [[ -n "${CLIENT_URL}" ]]; then
    optional+=("SIGNALR_CLIENT_URL=${CLIENT_URL}")
  fi
  connection="$(capture "<connection-string>" az resource show --resource-group "${RG}" \
    --name "${INSIGHTS}" --resource-type Microsoft.Insights/components \
    --query properties.ConnectionString -o tsv)"
  # -o none: the command echoes every setting, AzureWebJobsStorage's account key included.
  run az functionapp config appsettings set --name "${APP}" --resource-group "${RG}" -o none \
    --settings \
    "AzureWebJobsSecretStorageType=keyvault" \
    "AzureWebJobsSecretStorageKeyVaultUri=${VAULT_URI}" \
    "AzureSignalRConnectionString__serviceUri=https://${SIGNALR}.service.signalr.net" \
    "APPLICATIONINSIGHTS_CONNECTION_STRING=${connection}" \
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING=Authorization=AAD" \
    "CHAT_ADMINS=${ADMINS}" \
    "CHAT_MAX_MESSAGE_LENGTH=${MAX_LENGTH}" \
    "CHAT_RECONCILE_SCHEDULE=${RECONCILE_SCHEDULE}" \
    "FUNCTIONS_EXTENSION_VERSION=~4" \
    "FUNCTIONS_WORKER_RUNTIME=python" \
    "SCM_DO_BUILD_DURING_DEPLOYMENT=true" \
    "ENABLE_ORYX_BUILD=true" \
    "${optional[@]}"
}

publish() {
  log "publishing the app (remote build installs requirements.txt)"
  local package="<package>/app.zip"
  if ((!DRY_RUN)); then
    WORK_DIR="$(mktemp -d)"
    trap 'rm -rf "${WORK_DIR}"' EXIT
    package="${WORK_DIR}/app.zip"
  fi
  (cd "${REPO_ROOT}" && run zip -q -r "${package}" function_app.py host.json requirements.txt \
    chat chat_io content -x '*/__pycache__/*' '*.pyc')
  run az functionapp deployment source config-zip --name "${APP}" --resource-group "${RG}" \
    --src "${package}" --build-remote true --timeout 900 -o none
}

# The host writes signalr_extension to Key Vault the first time it starts with the SignalR
# trigger loaded; a request starts it. Asks ARM whether the key exists: the query returns only
# the JSON type of the key (string or null), never the key.
wait_for_system_key() {
  log "waiting for the host to create the signalr_extension key (up to ${KEY_WAIT_SECONDS}s)"
  local deadline=$((SECONDS + KEY_WAIT_SECONDS)) present sink=/dev/null
  ((DRY_RUN)) && sink=/dev/stderr  # show the commands; otherwise hide "not ready yet" errors
  while :; do
    run az rest --method get --url "https://${APP_HOST}/api/index" --skip-authorization-header \
      -o none 2>"${sink}" || true
    present="$(capture string az functionapp keys list --name "${APP}" --resource-group "${RG}" \
      --query 'type(systemKeys.signalr_extension)' -o tsv 2>"${sink}" || true)"
    [[ "${present}" == string ]] && return 0
    ((SECONDS < deadline)) || {
      log "key not there yet; SignalR re-reads the Key Vault reference every 30 minutes"
      return 0
    }
    sleep 15
  done
}

# Set after the key exists, so that this change makes SignalR re-read the secret at once.
configure_upstream() {
  log "SignalR upstream -> ${APP_HOST}, code from Key Vault, ManagedIdentity auth"
  local body url
  url="https://${APP_HOST}/runtime/webhooks/signalr?code={@Microsoft.KeyVault(SecretUri=${VAULT_URI}secrets/${SECRET_NAME}/)}"
  body="$(cat <<EOF
{
  "properties": {
    "features": [
      {"flag": "ServiceMode", "value": "Serverless"},
      {"flag": "EnableConnectivityLogs", "value": "True"}
    ],
    "cors": {"allowedOrigins": ["https://${APP_HOST}"]},
    "upstream": {
      "templates": [{
        "hubPattern": "${HUB}",
        "categoryPattern": "*",
        "eventPattern": "*",
        "urlTemplate": "${url}",
        "auth": {"type": "ManagedIdentity", "managedIdentity": {"resource": ""}}
      }]
    }
  }
}
EOF
)"
  run az rest --method patch --url "${SIGNALR_ID}?api-version=${SIGNALR_API}" \
    --headers Content-Type=application/json --body "${body}" -o none
}

cmd_up() {
  require_tools
  derive_names
  choose_location
  create_foundation
  create_function_app
  create_signalr
  grant_roles
  configure_app
  publish
  wait_for_system_key
  configure_upstream
  log "done"
  printf 'CHAT_URL=https://%s/api/index\n' "${APP_HOST}"
}

cmd_down() {
  require_tools
  derive_names
  if exists az group show --name "${RG}" || ((DRY_RUN)); then
    log "deleting resource group ${RG}"
    run az group delete --name "${RG}" --yes
  else
    log "resource group ${RG} does not exist; nothing to delete"
  fi
  if ((PURGE)); then
    if [[ -n "$(capture "${VAULT}" az keyvault list-deleted --query "[?name=='${VAULT}'].name" -o tsv)" ]]; then
      log "purging soft-deleted Key Vault ${VAULT}"
      run az keyvault purge --name "${VAULT}"
    fi
  fi
}

cmd_url() {
  require_tools
  derive_names
  APP_HOST="$(capture "${APP}.azurewebsites.net" az functionapp show --name "${APP}" \
    --resource-group "${RG}" --query defaultHostName -o tsv)"
  printf 'CHAT_URL=https://%s/api/index\n' "${APP_HOST}"
}

main() {
  parse_args "$@"
  case "${COMMAND}" in
    up) cmd_up ;;
    down) cmd_down ;;
    url) cmd_url ;;
    *) usage ;;
  esac
}

main "$@"
