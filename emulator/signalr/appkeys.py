"""The typed keys of the service's aiohttp application (aiohttp's ``AppKey``: no globals)."""

from __future__ import annotations

from aiohttp import web

from .service import SignalRService

__all__ = ["SERVICE_KEY"]

SERVICE_KEY = web.AppKey("service", SignalRService)
