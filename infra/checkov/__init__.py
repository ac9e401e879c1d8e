"""Custom checkov checks for the chat's Azure SignalR Service (checkov has none for signalR).

Loaded with ``--external-checks-dir infra/checkov``; see infra/.checkov.yaml and tests/infra/.
"""
