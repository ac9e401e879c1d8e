"""The service's own pure cores: the connection (session rules), handshake, negotiate answers,
stateful-reconnect bookkeeping, REST bodies and upstream rules. No I/O, no clock, no randomness.

What the Functions host shares with the service lives in :mod:`emulator.contracts`.
"""
