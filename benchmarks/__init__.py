"""Benchmarks of the offline stack against python-socketio and a plain aiohttp broadcast server.

Scripts, not tests: ``python -m benchmarks`` runs the default scenarios on loopback and prints one
table; see ``README.md`` and ``RESULTS.md``.
"""

__all__: list[str] = []
