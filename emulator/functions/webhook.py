"""The SignalR trigger webhook ``/runtime/webhooks/signalr``, pure.

Checks in the extension's order (docs/functions-host.md, "SignalR trigger webhook"): content type
(415), X-ASRS-Hub/Category/Event (400), routing (404), signature (401); then the body is parsed
and the InvocationContext JSON built. (The extension parses a ``messages`` body before it checks
the signature; this host checks the signature first.) Completions are encoded in the request's
hub protocol.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgpack

from ..contracts import HubProtocol, protocol_for_content_type, verify_signature
from ..contracts.framing import RECORD_SEPARATOR
from ..contracts.messages import Completion, HubMessage, Invocation
from ..contracts.upstream import parse_claims, parse_client_query
from ..errors import IndexingError, ProtocolError, WebhookError

__all__ = [
    "TriggerKey",
    "UpstreamMessage",
    "build_invocation_context",
    "check_headers",
    "check_trigger",
    "content_protocol",
    "encode_completion",
    "parse_claims",
    "parse_client_query",
    "parse_connection_body",
    "parse_invocation_body",
    "trigger_key",
    "verify_upstream_signature",
]

_CONTENT_HEADERS = frozenset({"content-type", "content-length", "content-encoding",
                              "content-language", "content-location", "content-md5",
                              "content-range", "content-disposition", "expires",
                              "last-modified", "allow"})

TriggerKey = tuple[str, str, str]


def trigger_key(hub: str, category: str, event: str) -> TriggerKey:
    """The routing key, compared case-insensitively."""
    return (hub.lower(), category.lower(), event.lower())


def check_trigger(function: str, hub: str, category: str, event: str) -> None:
    """Index-time rules of the extension's ``SignalRTriggerDispatcher.Map``.

    docs/functions-host.md, "SignalR trigger webhook".
    """
    if category.lower() not in ("connections", "messages"):
        raise IndexingError(f"Function '{function}': signalRTrigger category must be "
                            f"'connections' or 'messages', got {category!r}.")
    if category.lower() == "connections" and event.lower() not in ("connected", "disconnected"):
        raise IndexingError(f"Function '{function}': for category 'connections' the event must "
                            f"be 'connected' or 'disconnected', got {event!r}.")
    if not hub:
        raise IndexingError(f"Function '{function}': signalRTrigger needs a hubName.")


def content_protocol(content_type: str | None) -> HubProtocol:
    """The hub protocol of the Content-Type (JSON or MessagePack), else 415."""
    protocol = protocol_for_content_type(content_type)
    if protocol is not None:
        return protocol
    media = (content_type or "").split(";")[0].strip().lower()
    raise WebhookError(f"Unsupported content type {media or '(none)'!r}; expected "
                       f"application/json or application/x-msgpack", status_hint=415)


def check_headers(headers: Mapping[str, str]) -> TriggerKey:
    """The (hub, category, event) of a request; an empty or missing one is a 400."""
    values = []
    for name in ("X-ASRS-Hub", "X-ASRS-Category", "X-ASRS-Event"):
        value = headers.get(name, "")
        if not value:
            raise WebhookError(f"Bad request: header {name} is missing or empty", status_hint=400)
        values.append(value)
    return trigger_key(*values)


def verify_upstream_signature(headers: Mapping[str, str], keys: Sequence[str]) -> None:
    """401 unless X-ASRS-Signature matches the connection id under one of ``keys``.

    An empty ``keys`` means validation is off: a connection string without AccessKey turns it
    off in the extension (docs/functions-host.md, "SignalR trigger webhook").
    """
    if not keys:
        return
    connection_id = headers.get("X-ASRS-Connection-Id", "")
    signature = headers.get("X-ASRS-Signature")
    # A genuine signature is ASCII hex over a UTF-8 connection id; anything else (bytes the
    # HTTP parser kept as surrogates, non-ASCII text) cannot match and must not crash the check.
    if not (_is_utf8(connection_id) and (signature is None or signature.isascii())
            and verify_signature(signature, connection_id, keys)):
        raise WebhookError("Signature validation failed", status_hint=401)


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@dataclass(frozen=True)
class UpstreamMessage:
    """What the body said: an invocation (target, arguments, id) or a close (error)."""

    type: int | None
    invocation_id: str | None = None
    target: str | None = None
    arguments: list[Any] | None = None
    error: str | None = None


def _jsonable(value: Any) -> Any:
    """MessagePack values as the JSON the function reads (Json.NET's view of them).

    ``bin`` becomes a base64 string (how Json.NET writes ``byte[]``), a timestamp an ISO 8601
    string; other extension types have no JSON form and are a 400.
    """
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key).lower() if isinstance(key, bool) else str(key): _jsonable(item)
                for key, item in value.items()}
    if isinstance(value, msgpack.Timestamp):
        return value.to_datetime().isoformat().replace("+00:00", "Z")
    if isinstance(value, msgpack.ExtType):
        raise WebhookError(f"Bad request: MessagePack extension type {value.code} has no JSON "
                           f"form")
    return value


def _decode(body: bytes, protocol: HubProtocol) -> HubMessage:
    """The one hub message of a body: bare, as the service sends it, or framed."""
    try:
        return protocol.decode_payload(body)
    except ProtocolError as bare_error:
        try:
            messages = protocol.decode(body)
        except ProtocolError:
            raise WebhookError(f"Bad request: {bare_error}") from None
        if len(messages) != 1:
            raise WebhookError("Bad request: the body must hold exactly one message") from None
        return messages[0]


def parse_invocation_body(body: bytes, protocol: HubProtocol) -> UpstreamMessage:
    """A ``messages`` body: one Invocation in the request's hub protocol, else a 400.

    MessagePack arguments reach the function as the JSON the extension would hand over.
    """
    message = _decode(body, protocol)
    if not isinstance(message, Invocation):
        raise WebhookError("Bad request: the body is not an invocation message")
    arguments = message.arguments
    if protocol.transfer_format == "Binary":
        arguments = _jsonable(arguments)
    return UpstreamMessage(type=int(message.type), invocation_id=message.invocation_id,
                           target=message.target, arguments=arguments)


def parse_connection_body(body: bytes) -> UpstreamMessage:
    """A ``connections`` body (``{"type":10}`` or ``{"type":11,"error":…}``): only its error
    matters, and a body that says nothing readable counts as none."""
    try:
        data = json.loads(body.split(RECORD_SEPARATOR)[0] or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError):
        return UpstreamMessage(type=None)
    if not isinstance(data, dict):
        return UpstreamMessage(type=None)
    lowered = {str(k).lower(): v for k, v in data.items()}
    kind, error = lowered.get("type"), lowered.get("error")
    return UpstreamMessage(type=kind if isinstance(kind, int) else None,
                           error=error if isinstance(error, str) else None)


def build_invocation_context(headers: Iterable[tuple[str, str]],
                             message: UpstreamMessage) -> str:
    """The PascalCase InvocationContext JSON, nulls included, in declaration order.

    docs/functions-host.md, "SignalR trigger webhook".
    """
    joined: dict[str, str] = {}
    lowered: dict[str, str] = {}
    spelling: dict[str, str] = {}
    """Lower-cased name -> the spelling it was first seen in (the key in ``joined``)."""
    for name, value in headers:
        low = name.lower()
        if low in _CONTENT_HEADERS:
            continue
        existing = spelling.setdefault(low, name)
        joined[existing] = f"{joined[existing]},{value}" if existing in joined else value
        lowered[low] = joined[existing]
    context = {
        "Arguments": message.arguments if message.type == 1 else None,
        "Error": message.error,
        "Category": lowered.get("x-asrs-category"),
        "Event": lowered.get("x-asrs-event"),
        "Hub": lowered.get("x-asrs-hub"),
        "ConnectionId": lowered.get("x-asrs-connection-id"),
        "UserId": lowered.get("x-asrs-user-id") or None,
        "Headers": joined,
        "Query": parse_client_query(lowered.get("x-asrs-client-query")),
        "Claims": parse_claims(lowered.get("x-asrs-user-claims")),
    }
    return json.dumps(context)


def encode_completion(invocation_id: str, protocol: HubProtocol, *, result: Any = None,
                      error: str | None = None) -> bytes:
    """A Completion with ``result`` or ``error``, framed in ``protocol`` (what the service
    relays to the caller of ``invoke``)."""
    if error is not None:
        return protocol.encode(Completion.failed(invocation_id, error))
    return protocol.encode(Completion(invocation_id=invocation_id, result=result,
                                      has_result=True))
