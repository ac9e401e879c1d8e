"""Access tokens: HS256 JWTs signed with the AccessKey (docs/signalr-service.md, "Access tokens").

The key is the UTF-8 bytes of the AccessKey string as written in the connection string, not its
base64 decoding. Pure: the caller passes ``now`` (Unix seconds).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt

from ..errors import InvalidToken

__all__ = [
    "DEFAULT_LIFETIME",
    "NAME_IDENTIFIER",
    "InvalidToken",
    "client_audience",
    "client_audience_matches",
    "issue_token",
    "rest_audience_matches",
    "user_id_from_claims",
    "verify_token",
]

DEFAULT_LIFETIME = 3600
"""One hour, the SDK's ``DefaultAccessTokenLifetime``."""
MAX_TOKEN_LENGTH = 4096
ALGORITHMS = ["HS256", "HS384", "HS512"]
NAME_IDENTIFIER = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier"
USER_ID = "asrs.s.uid"
# Claims the token format owns; a custom claim of the same name is renamed ``asrs.u.<name>``
# (docs/signalr-service.md, "Client tokens").
RESERVED_CLAIMS = frozenset(
    {"aud", "exp", "iat", "nbf", "iss", "actort", "acr", "azp", "c_hash", "jti", "nonce"}
)


def client_audience(audience_base: str, hub: str) -> str:
    """The ``aud`` of a client token: ``{scheme}://{host}/client/?hub={hub lower}`` (no port)."""
    return f"{audience_base}/client/?hub={hub.lower()}"


def issue_token(
    *,
    audience: str,
    key: str,
    now: float,
    lifetime: int = DEFAULT_LIFETIME,
    user_id: str | None = None,
    claims: Mapping[str, Any] | None = None,
) -> str:
    """Sign a token the way the Management SDK does: ``aud``, ``exp``, ``nbf`` = ``iat`` = now."""
    payload: dict[str, Any] = {}
    for name, value in (claims or {}).items():
        payload[f"asrs.u.{name}" if name in RESERVED_CLAIMS else name] = value
    issued = int(now)
    payload.update(aud=audience, iat=issued, nbf=issued, exp=issued + lifetime)
    if user_id:
        payload[USER_ID] = user_id
    return jwt.encode(payload, key.encode(), algorithm="HS256")


def verify_token(
    token: str | None,
    *,
    keys: Iterable[str],
    now: float,
    audience_ok: Callable[[str], bool] | None = None,
    leeway: int = 0,
) -> dict[str, Any]:
    """Return the claims of a token signed with one of ``keys`` and valid at ``now``.

    ``audience_ok`` receives each ``aud`` value; the token passes if any is accepted.
    Raises :class:`InvalidToken` with a short reason otherwise.
    """
    if not token:
        raise InvalidToken("no access token")
    if len(token) > MAX_TOKEN_LENGTH:
        raise InvalidToken("access token longer than 4K")
    claims: dict[str, Any] | None = None
    for key in keys:
        try:
            claims = jwt.decode(
                token,
                key.encode(),
                algorithms=ALGORITHMS,
                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False,
                         "verify_aud": False, "require": ["exp"]},
            )
            break
        except jwt.InvalidSignatureError:
            continue
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"malformed access token: {exc}") from None
    if claims is None:
        raise InvalidToken("access token signature does not match any access key")
    exp = claims.get("exp")
    if not isinstance(exp, (int, float)) or exp + leeway <= now:
        raise InvalidToken("access token expired")
    nbf = claims.get("nbf")
    if isinstance(nbf, (int, float)) and nbf - leeway > now + 300:
        raise InvalidToken("access token not yet valid")
    if audience_ok is not None:
        audiences = claims.get("aud")
        if isinstance(audiences, str):
            audiences = [audiences]
        if not isinstance(audiences, list) or not any(
            isinstance(aud, str) and audience_ok(aud) for aud in audiences
        ):
            raise InvalidToken("access token audience does not match")
    return claims


def _path_and_query(url: str) -> tuple[str, dict[str, list[str]]]:
    parts = urlsplit(url)
    return parts.path.rstrip("/").lower(), parse_qs(parts.query)


def client_audience_matches(aud: str, hub: str) -> bool:
    """Lenient client-audience check: ``…/client/?hub=<hub>`` whatever the scheme, host and port.

    Local clients reach the service as ``localhost`` or ``127.0.0.1`` on any port, and the SDK
    leaves the port out of the audience (docs/signalr-service.md, "Client tokens"), so only the
    path and the hub are compared.
    """
    path, query = _path_and_query(aud)
    hubs = [h.lower() for h in query.get("hub", [])]
    return path.endswith("/client") and hubs == [hub.lower()]


def rest_audience_matches(aud: str, request_path: str) -> bool:
    """Lenient REST-audience check: compare paths without query, trailing slash or port.

    Learn and the Management SDK disagree on the query (docs/signalr-service.md, "REST tokens").
    """
    path, _ = _path_and_query(aud)
    return path == request_path.rstrip("/").lower()


def user_id_from_claims(claims: Mapping[str, Any]) -> str | None:
    """The user id of a token: ``asrs.s.uid``, then ``nameid``, ``sub``, the long NameIdentifier."""
    for name in (USER_ID, "nameid", "sub", NAME_IDENTIFIER):
        value = claims.get(name)
        if isinstance(value, list):
            value = value[0] if value else None
        if isinstance(value, str) and value:
            return value
    return None
