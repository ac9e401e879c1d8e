"""Access tokens: HS256 JWTs signed with the AccessKey (docs/serverless-contracts.md,
"Access tokens").

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
    "ReusedTokens",
    "VerifiedTokens",
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
# (docs/serverless-contracts.md, "Client tokens").
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


class ReusedTokens:
    """Tokens signed for an audience, reused while young (one per audience and key).

    The output binding signs a REST token for every call; signing is most of the cost of a
    small REST call. A token younger than ``reuse`` seconds (a small part of its lifetime) is
    handed out again, so every token still has at least ``lifetime - reuse`` seconds to live.
    """

    def __init__(self, *, reuse: float = 60.0, lifetime: int = DEFAULT_LIFETIME,
                 size: int = 256) -> None:
        self._reuse = reuse
        self._lifetime = lifetime
        self._size = size
        self._tokens: dict[tuple[str, str], tuple[float, str]] = {}

    def get(self, *, audience: str, key: str, now: float) -> str:
        entry = self._tokens.get((audience, key))
        if entry is not None and 0 <= now - entry[0] < self._reuse:
            return entry[1]
        token = issue_token(audience=audience, key=key, now=now, lifetime=self._lifetime)
        if len(self._tokens) >= self._size:
            self._tokens.pop(next(iter(self._tokens)))
        self._tokens[(audience, key)] = (now, token)
        return token


class VerifiedTokens:
    """Signatures already checked: the claims of each token text, bounded (oldest out first).

    A client or REST caller presents the same token on every request; checking its HMAC and
    decoding it each time is most of the cost of a small REST call. Only that is skipped: the
    expiry, not-before and audience checks of :func:`verify_token` run on every use.
    """

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._claims: dict[tuple[str, tuple[str, ...]], dict[str, Any]] = {}

    def get(self, token: str, keys: tuple[str, ...]) -> dict[str, Any] | None:
        return self._claims.get((token, keys))

    def put(self, token: str, keys: tuple[str, ...], claims: dict[str, Any]) -> None:
        if len(self._claims) >= self._size:
            self._claims.pop(next(iter(self._claims)))
        self._claims[(token, keys)] = claims

    def __len__(self) -> int:
        return len(self._claims)


def verify_token(
    token: str | None,
    *,
    keys: Iterable[str],
    now: float,
    audience_ok: Callable[[str], bool] | None = None,
    leeway: int = 0,
    verified: VerifiedTokens | None = None,
) -> dict[str, Any]:
    """Return the claims of a token signed with one of ``keys`` and valid at ``now``.

    ``audience_ok`` receives each ``aud`` value; the token passes if any is accepted.
    ``verified``: signatures checked before (the claims are copied out of it).
    Raises :class:`InvalidToken` with a short reason otherwise.
    """
    if not token:
        raise InvalidToken("no access token")
    if len(token) > MAX_TOKEN_LENGTH:
        raise InvalidToken("access token longer than 4K")
    key_set = tuple(keys)
    known = verified.get(token, key_set) if verified is not None else None
    claims = _decode(token, key_set) if known is None else dict(known)
    if verified is not None and known is None:
        verified.put(token, key_set, dict(claims))
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


def _decode(token: str, keys: tuple[str, ...]) -> dict[str, Any]:
    """The claims of a token whose signature one of ``keys`` makes (InvalidToken otherwise)."""
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
    return claims


def _path_and_query(url: str) -> tuple[str, dict[str, list[str]]]:
    parts = urlsplit(url)
    return parts.path.rstrip("/").lower(), parse_qs(parts.query)


def client_audience_matches(aud: str, hub: str) -> bool:
    """Lenient client-audience check: ``…/client/?hub=<hub>`` whatever the scheme, host and port.

    Local clients reach the service as ``localhost`` or ``127.0.0.1`` on any port, and the SDK
    leaves the port out of the audience (docs/serverless-contracts.md, "Client tokens"), so only the
    path and the hub are compared.
    """
    path, query = _path_and_query(aud)
    hubs = [h.lower() for h in query.get("hub", [])]
    return path.endswith("/client") and hubs == [hub.lower()]


def rest_audience_matches(aud: str, request_path: str) -> bool:
    """Lenient REST-audience check: compare paths without query, trailing slash or port.

    Learn and the Management SDK disagree on the query (docs/serverless-contracts.md,
    "REST tokens").
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
