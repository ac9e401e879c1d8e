"""HS256 REST tokens signed with the standard library, checked by PyJWT."""

from __future__ import annotations

import jwt
import pytest

from chat.tokens import TOKEN_LIFETIME, rest_token, sign_hs256

KEY = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH"
AUDIENCE = "http://localhost:8888/api/hubs/chat/connections/c%2F1"


def test_rest_token_verifies_with_pyjwt_and_carries_audience_and_lifetime() -> None:
    token = rest_token(AUDIENCE, KEY, now=1_700_000_000.9)
    claims = jwt.decode(token, KEY, algorithms=["HS256"], audience=AUDIENCE,
                        options={"verify_exp": False})
    assert claims == {"aud": AUDIENCE, "iat": 1_700_000_000, "nbf": 1_700_000_000,
                      "exp": 1_700_000_000 + TOKEN_LIFETIME}
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}


def test_rest_token_signed_with_another_key_is_refused() -> None:
    token = rest_token(AUDIENCE, "other-key", now=0)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, KEY, algorithms=["HS256"], options={"verify_aud": False,
                                                              "verify_exp": False})


def test_sign_hs256_matches_pyjwt_byte_for_byte() -> None:
    claims = {"aud": "a", "exp": 5, "sub": "ünïcode"}
    ours = sign_hs256(claims, KEY)
    assert jwt.decode(ours, KEY, algorithms=["HS256"], audience="a",
                      options={"verify_exp": False}) == claims
    assert ours.count(".") == 2 and "=" not in ours
