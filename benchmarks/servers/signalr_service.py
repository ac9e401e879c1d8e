"""The local SignalR Service alone (no Functions host, no upstream), for the REST and capacity
scenarios: what is measured is the service process and nothing else. It listens as its command
line does (``python -m emulator.signalr``): open-files limit raised, connections capped from it,
garbage collected as often.
"""

from __future__ import annotations

from aiohttp import web

from emulator.signalr import DEFAULT_ACCESS_KEY, ServiceConfig
from emulator.signalr import make_app as make_service_app

__all__ = ["make_app"]


def make_app() -> web.Application:
    return make_service_app(ServiceConfig(access_keys=(DEFAULT_ACCESS_KEY,), upstream=()))


if __name__ == "__main__":
    from emulator.serve import collect_garbage_less_often

    from .serve import parse_port, serve

    collect_garbage_less_often()
    serve(make_app(), parse_port("The local SignalR Service alone."), guarded=True)
