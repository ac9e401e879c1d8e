"""The offline stack: a local Azure SignalR Service and a local Azure Functions host.

It knows nothing about the chat app. ``python -m emulator`` starts both halves.
"""
