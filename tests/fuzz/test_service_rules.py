"""Fuzzing the service's pure request rules: upstream URL templates and headers, tokens,
signatures and connection strings (docs/serverless-contracts.md, "Connection strings", "Access
tokens" and "Upstream").

Contract: any input gives a result or the module's documented error; secrets and control
characters never leak into URLs or headers.
"""

from __future__ import annotations

import contextlib
import json
from urllib.parse import unquote, urlsplit

import msgpack
from hypothesis import example, given
from hypothesis import strategies as st

from emulator.contracts import (
    issue_token,
    parse_connection_string,
    sign_connection_id,
    verify_signature,
    verify_token,
)
from emulator.contracts.protocols import PROTOCOLS
from emulator.errors import BadRequest, InvalidConnectionString, InvalidToken, SignalRError
from emulator.signalr.protocol.negotiate import negotiate_version
from emulator.signalr.protocol.payload import parse_payload
from emulator.signalr.protocol.upstream import (
    UpstreamTemplate,
    build_upstream_headers,
    expand_url,
    find_template,
    format_claims,
    strip_query_secrets,
)
from tests.fuzz.fuzzing import FUZZ, json_values

_names = st.text(max_size=20)
_patterns = st.none() | st.sampled_from(["*", "chat", "a,b", " chat , *", ""]) | _names


@FUZZ
@given(_names, _names, _names)
def test_expand_url_escapes_any_hub_category_event(hub: str, category: str, event: str) -> None:
    """Values land in the path as one escaped segment each; nothing can add a query or host."""
    url = expand_url("http://127.0.0.1:7071/{hub}/{category}/{event}?code=k", hub, category, event)
    parts = urlsplit(url)
    assert parts.netloc == "127.0.0.1:7071" and parts.query == "code=k"
    segments = parts.path.split("/")[1:]
    assert [unquote(s) for s in segments] == [hub, category, event]


@FUZZ
@given(st.lists(st.tuples(_patterns, _patterns, _patterns), max_size=4), _names, _names, _names)
def test_find_template_first_match_for_any_patterns(
    rules: list[tuple[str | None, str | None, str | None]], hub: str, category: str, event: str
) -> None:
    templates = [UpstreamTemplate(url_template=f"http://u/{i}", hub_pattern=h, category_pattern=c,
                                  event_pattern=e) for i, (h, c, e) in enumerate(rules)]
    found = find_template(templates, hub, category, event)
    matching = [t for t in templates if t.matches(hub, category, event)]
    assert found == (matching[0] if matching else None)


@FUZZ
@given(st.text(max_size=20), _names, st.text(max_size=20),
       st.dictionaries(st.text(max_size=8), json_values, max_size=4), st.text(max_size=60))
def test_upstream_headers_carry_no_control_characters_or_token(
    connection_id: str, event: str, user: str, claims: dict[str, object], query: str
) -> None:
    """Header values stay on one line whatever the client put in its name, claims or query."""
    headers = build_upstream_headers(
        connection_id=connection_id.replace("\r", "").replace("\n", ""), hub="chat",
        category="messages", event=event, keys=["k"], user_id=user, claims=claims,
        client_query=query + "&access_token=secret-token",
    )
    for name in ("X-ASRS-Event", "X-ASRS-User-Id", "X-ASRS-User-Claims", "X-ASRS-Client-Query"):
        value = headers.get(name, "")
        assert not any(ord(ch) < 32 or ord(ch) == 127 for ch in value), (name, value)
    assert "secret-token" not in headers.get("X-ASRS-Client-Query", "")


@FUZZ
@given(st.text(max_size=80))
def test_strip_query_secrets_removes_every_spelling(query: str) -> None:
    stripped = strip_query_secrets(query + "&access_token=T1&Access_Token=T2&access%5Ftoken=T3")
    assert not any(token in stripped for token in ("=T1", "=T2", "=T3"))


@FUZZ
@given(st.dictionaries(st.text(max_size=8), json_values, max_size=5))
def test_format_claims_any_values_one_line(claims: dict[str, object]) -> None:
    text = format_claims(claims)
    assert "\n" not in text and "\r" not in text


@FUZZ
@given(st.one_of(st.text(max_size=300), st.text(alphabet="abcXYZ-_.=0123456789", max_size=300)))
def test_verify_token_any_text_claims_or_invalid_token(token: str) -> None:
    try:
        verify_token(token, keys=["k" * 32], now=1_000_000.0)
    except InvalidToken as error:
        assert error.status_hint == 401
    else:  # pragma: no cover - a random string is never a token signed with our key
        raise AssertionError("a random string was accepted as a token")


@FUZZ
@given(st.integers(min_value=0, max_value=40), st.integers(min_value=0, max_value=255))
def test_verify_token_any_tampered_byte_is_refused(index: int, replacement: int) -> None:
    """Change one character of a valid token: refused (or identical, when nothing changed)."""
    key = "fuzz-key-0123456789abcdef0123456789"
    token = issue_token(audience="http://x/client/?hub=chat", key=key, now=1000.0,
                        user_id="alice")
    position = len(token) - 1 - index
    tampered = token[:position] + chr(replacement) + token[position + 1 :]
    try:
        claims = verify_token(tampered, keys=[key], now=1000.0)
    except InvalidToken:
        return
    # base64url's last character may carry unused bits: a change there can decode the same.
    assert claims == verify_token(token, keys=[key], now=1000.0)


@FUZZ
@given(st.one_of(st.none(), st.text(max_size=200)), st.text(max_size=30))
@example(header="\x80", connection_id="")
def test_verify_signature_any_header_is_a_bool(header: str | None, connection_id: str) -> None:
    assert verify_signature(header, connection_id, ["key-one", "key-two"]) in (True, False)


@FUZZ
@given(st.text(max_size=30), st.text(max_size=30))
def test_signature_for_one_connection_never_verifies_another(first: str, second: str) -> None:
    header = sign_connection_id(first, ["key-one"])
    assert verify_signature(header, first, ["key-one"])
    assert verify_signature(header, second, ["key-one"]) == (first == second)
    assert not verify_signature(header, first, ["key-two"])


_cs_parts = st.sampled_from(["Endpoint=http://localhost", "Endpoint=https://a.service.signalr.net",
                             "AccessKey=abc", "Version=1.0", "Port=8888", "Port=x", "Port=99999",
                             "ClientEndpoint=http://c", "Endpoint=ftp://x", "Endpoint=", "=",
                             "AuthType=azure.msi", "Bogus=1", ";;"]) | st.text(max_size=20)


@FUZZ
@given(st.lists(_cs_parts, max_size=6))
def test_parse_connection_string_any_text_parses_or_invalid(parts: list[str]) -> None:
    text = ";".join(parts)
    try:
        parsed = parse_connection_string(text)
    except InvalidConnectionString:
        return
    assert parsed.audience_base.startswith(("http://", "https://"))
    assert 0 < parsed.port < 65536


@FUZZ
@given(st.text(alphabet=st.characters(codec="ascii"), max_size=200), st.text(max_size=30))
def test_verify_signature_any_ascii_header_is_a_bool(header: str, connection_id: str) -> None:
    assert verify_signature(header, connection_id, ["key-one", "key-two"]) in (True, False)


# -- REST payloads and negotiate parameters ------------------------------------------------------

_payload_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats()
    | st.text(max_size=8) | st.binary(max_size=8)
    | st.builds(msgpack.ExtType, st.integers(1, 100), st.binary(max_size=4))
    | st.builds(msgpack.Timestamp, st.integers(0, 2**32 - 1)),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)
_media = st.sampled_from(["application/json", "application/x-msgpack",
                          "application/octet-stream", "text/plain", "", "application/x+json"])


def _rest_body(value: object) -> bytes:
    return msgpack.packb(value, use_bin_type=True)


@FUZZ
@given(st.one_of(st.binary(max_size=120),
                 st.fixed_dictionaries({"target": st.text(max_size=5),
                                        "arguments": st.lists(_payload_values, max_size=3)})
                 .map(_rest_body),
                 json_values.map(lambda v: json.dumps(v).encode())),
       _media)
@example(body=_rest_body({"target": "t", "arguments": [b"\x00", float("nan")]}),
         content_type="application/x-msgpack")
@example(body=_rest_body({"target": "t", "arguments": [msgpack.ExtType(5, b"x")]}),
         content_type="application/x-msgpack")
def test_rest_payload_any_body_parses_or_4xx(body: bytes, content_type: str) -> None:
    """A REST body is refused with a 4xx or gives a message; encoding it for each protocol
    either works or raises what ``SignalRService.send`` catches to skip that protocol's clients
    (MessagePack-only values such as bytes, NaN or extension types have no JSON form)."""
    try:
        message, encoded = parse_payload(body, content_type)
    except SignalRError as error:
        assert 400 <= error.status_hint < 500, error
        return
    for name, protocol in PROTOCOLS.items():
        if name not in encoded:
            with contextlib.suppress(TypeError, ValueError, OverflowError):
                protocol.encode(message)


@FUZZ
@given(st.lists(st.text(max_size=4), max_size=2))
@example(values=["²"])
def test_negotiate_version_any_query_value_or_bad_request(values: list[str]) -> None:
    try:
        version = negotiate_version({"negotiateversion": values})
    except BadRequest:
        return
    assert 0 <= version <= 1
