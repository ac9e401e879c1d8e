"""Upstream (webhook) rules, URLs, headers, bodies and completions (docs/serverless-contracts.md,
"Upstream").

Pure: the caller does the HTTP and passes the status and body back in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from ...contracts.codec import HubProtocol
from ...contracts.json_hub import dumps
from ...contracts.messages import Completion, Invocation
from ...contracts.signatures import sign_connection_id
from ...contracts.upstream import (
    CATEGORY,
    CLAIMS,
    CLIENT_QUERY,
    CONNECTION_ID,
    EVENT,
    HUB,
    SIGNATURE,
    USER_ID,
    format_claims,
    header_safe,
    strip_query_secrets,
)
from ...errors import ProtocolError

__all__ = [
    "CONNECTIONS",
    "MAX_RESPONSE_SIZE",
    "MESSAGES",
    "UpstreamTemplate",
    "build_upstream_headers",
    "client_query_header",
    "completion_for_failure",
    "completion_for_response",
    "connected_body",
    "disconnected_body",
    "expand_url",
    "find_template",
    "invocation_body",
]

CONNECTIONS = "connections"
MESSAGES = "messages"
MAX_RESPONSE_SIZE = 16 * 1024 * 1024
"""An ``invoke`` response over 16 MiB is refused, as Microsoft's emulator does.

docs/serverless-contracts.md, "Responses".
"""


def _split_pattern(pattern: str | None) -> tuple[str, ...] | None:
    if pattern is None:
        return None
    return tuple(part.strip() for part in pattern.split(","))


@dataclass(frozen=True, kw_only=True)
class UpstreamTemplate:
    """One item of ``UpstreamSettings.Templates`` (docs/serverless-contracts.md, "Settings").

    A pattern is ``*`` (anything; also anywhere in a list), ``a,b,c`` (any listed name, trimmed)
    or an exact name, compared case-sensitively. ``None`` (JSON ``null``) matches nothing;
    an omitted pattern is ``*`` (docs/serverless-contracts.md, "Rules and matching").
    """

    url_template: str
    hub_pattern: str | None = "*"
    category_pattern: str | None = "*"
    event_pattern: str | None = "*"

    def matches(self, hub: str, category: str, event: str) -> bool:
        return all(
            _pattern_matches(pattern, value)
            for pattern, value in (
                (self.hub_pattern, hub),
                (self.category_pattern, category),
                (self.event_pattern, event),
            )
        )


def _pattern_matches(pattern: str | None, value: str) -> bool:
    parts = _split_pattern(pattern)
    if parts is None:
        return False
    return "*" in parts or value in parts


def find_template(
    templates: Iterable[UpstreamTemplate], hub: str, category: str, event: str
) -> UpstreamTemplate | None:
    """The first template whose three rules all match: the first match wins."""
    for template in templates:
        if template.matches(hub, category, event):
            return template
    return None


def _escape(value: str) -> str:
    # .NET Uri.EscapeDataString: everything but RFC 3986 unreserved characters is escaped.
    return quote(value, safe="-._~")


def expand_url(url_template: str, hub: str, category: str, event: str) -> str:
    """Replace ``{hub}``, ``{category}``, ``{event}`` with escaped values.

    docs/serverless-contracts.md, "URL templates".
    """
    return (
        url_template.replace("{hub}", _escape(hub))
        .replace("{category}", _escape(category))
        .replace("{event}", _escape(event))
    )


def build_upstream_headers(
    *,
    connection_id: str,
    hub: str,
    category: str,
    event: str,
    keys: Sequence[str],
    content_type: str = "application/json",
    user_id: str | None = None,
    claims: Mapping[str, Any] | None = None,
    client_query: str = "",
    claims_header: str | None = None,
    query_header: str | None = None,
) -> dict[str, str]:
    """Every ``X-ASRS-*`` header of an upstream request (docs/serverless-contracts.md, "Headers" and
    "Signature").

    ``claims_header``: ``format_claims(claims)`` computed once per connection, used instead of
    ``claims`` (a connection keeps the short string, not the token's decoded claims).
    ``query_header``: ``client_query_header(client_query)``, likewise computed once and used
    instead of ``client_query`` (a connection keeps the query without its token).
    """
    headers = {
        CONNECTION_ID: connection_id,
        HUB: hub,
        CATEGORY: category,
        EVENT: header_safe(event),
        SIGNATURE: sign_connection_id(connection_id, keys),
        "Content-Type": content_type,
    }
    if user_id:
        headers[USER_ID] = header_safe(user_id)
    if claims_header is None and claims:
        claims_header = format_claims(claims)
    if claims_header:
        headers[CLAIMS] = claims_header
    if query_header is None:
        query_header = client_query_header(client_query)
    if query_header:
        headers[CLIENT_QUERY] = query_header
    return headers


def client_query_header(client_query: str) -> str:
    """The ``X-ASRS-Client-Query`` value for a client's decoded query string: without its
    secrets, ``""`` when nothing is left (then the header is not sent)."""
    query = strip_query_secrets(client_query.lstrip("?"))
    return header_safe("?" + query) if query else ""


def connected_body() -> bytes:
    return b'{"type":10}'


def disconnected_body(error: str | None) -> bytes:
    return dumps({"type": 11, "error": error}) if error else b'{"type":11}'


def invocation_body(invocation: Invocation, protocol: HubProtocol) -> bytes:
    """The client's invocation re-encoded without transport framing (docs/serverless-contracts.md,
    "Bodies").

    Message headers named ``Authorization`` are dropped: signalrcore copies its bearer token
    into them (docs/client-protocol.md, "Python clients") and it must not travel further.
    """
    headers = {k: v for k, v in invocation.headers.items() if k.lower() != "authorization"}
    if headers != dict(invocation.headers):
        invocation = Invocation(
            target=invocation.target, arguments=invocation.arguments,
            invocation_id=invocation.invocation_id, stream_ids=invocation.stream_ids,
            headers=headers,
        )
    return protocol.encode_payload(invocation)


def completion_for_failure(invocation_id: str, reason: str, protocol: HubProtocol) -> bytes:
    return protocol.encode(Completion.failed(invocation_id, f"Invocation failed, {reason}"))


def completion_for_response(
    invocation_id: str, status: int, body: bytes, protocol: HubProtocol
) -> bytes:
    """What the caller of ``invoke`` receives for an upstream answer, framed.

    docs/serverless-contracts.md, "Responses".

    200 with a body: the body itself, which must already be framed hub messages in the
    caller's protocol (checked, so a bad upstream cannot break the client's parser).
    200 empty or 204: a void completion. Anything else: ``Invocation failed, status code N``.
    """
    if status == 200 and body:
        if len(body) > MAX_RESPONSE_SIZE:
            return completion_for_failure(invocation_id, "response too large.", protocol)
        try:
            protocol.decode(body)
        except ProtocolError:
            return completion_for_failure(
                invocation_id, "error: the upstream response is not a framed hub message.",
                protocol,
            )
        return body
    if status in (200, 204):
        return protocol.encode(Completion.void(invocation_id))
    return completion_for_failure(invocation_id, f"status code {status}", protocol)
