"""Reading and checking access tokens on incoming requests.

docs/serverless-contracts.md, "Access tokens"; where a client puts its token:
docs/client-protocol.md, "Negotiate".
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from yarl import URL

from ..contracts.tokens import client_audience_matches, verify_token
from ..errors import AuthError, InvalidToken
from .log import OnceLog, log, printable

__all__ = ["bearer_token", "check_client_token", "decoded_query", "query_items"]


def query_items(request: web.Request) -> list[tuple[str, str]]:
    """The query's (name, value) pairs, decoded as ``request.query`` decodes them.

    Parsed here rather than through ``request.query``: that MultiDict is cached on the request,
    which a WebSocket keeps for its whole life (about 0.8 KB per idle connection).
    """
    return parse_qsl(request.rel_url.raw_query_string, keep_blank_values=True)


def decoded_query(request: web.Request) -> str:
    """``request.query_string`` (the query, decoded by yarl), without caching it on the
    request: a WebSocket keeps its request for its whole life, and this copy holds the access
    token (about 0.4 KB per idle connection)."""
    return URL.build(query_string=request.rel_url.raw_query_string, encoded=True).query_string


def bearer_token(request: web.Request) -> str | None:
    """``Authorization: Bearer …`` wins; else the last ``access_token`` query value."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    values = [v for k, v in query_items(request) if k.lower() == "access_token"]
    return values[-1] if values else None


def check_client_token(request: web.Request, hub: str, keys: tuple[str, ...],
                       now: float, refusals: OnceLog) -> dict[str, Any]:
    """The claims of a valid client token for ``hub``, or AuthError (401) with a short reason."""
    try:
        return verify_token(
            bearer_token(request), keys=keys, now=now,
            audience_ok=lambda aud: client_audience_matches(aud, hub),
        )
    except InvalidToken as exc:
        refusals.warning(log, str(exc), "refused %s %s: %s", request.method,
                         printable(request.path), printable(exc))
        raise AuthError(str(exc)) from None
