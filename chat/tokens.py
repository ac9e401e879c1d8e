"""HS256 JSON Web Tokens for the service's REST API, with the standard library only.

The app's runtime packages are azure-functions, azure-functions-durable and jinja2, so the token
the SignalR output binding would mint is made here by hand: a JWT (RFC 7519) in compact form,
header ``{"alg": "HS256", "typ": "JWT"}``, signed with HMAC-SHA256 keyed by the UTF-8 bytes of the
connection string's ``AccessKey``, with the claims ``aud`` (the request URL without its query)
and ``exp`` (docs/chat-app.md, "The service's REST API from the app").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

__all__ = ["TOKEN_LIFETIME", "rest_token", "sign_hs256"]

TOKEN_LIFETIME = 3600


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _segment(value: Mapping[str, Any]) -> str:
    return _b64url(json.dumps(value, separators=(",", ":"), sort_keys=True).encode("utf-8"))


def sign_hs256(claims: Mapping[str, Any], key: str) -> str:
    """``claims`` as a compact JWT signed with HMAC-SHA256 under ``key``."""
    signing_input = f"{_segment({'alg': 'HS256', 'typ': 'JWT'})}.{_segment(claims)}"
    signature = hmac.new(key.encode("utf-8"), signing_input.encode("ascii"), hashlib.sha256)
    return f"{signing_input}.{_b64url(signature.digest())}"


def rest_token(audience: str, key: str, now: float, lifetime: int = TOKEN_LIFETIME) -> str:
    """A bearer token for one REST request to ``audience``, valid for ``lifetime`` seconds."""
    issued = int(now)
    return sign_hs256({"aud": audience, "iat": issued, "nbf": issued,
                       "exp": issued + lifetime}, key)
