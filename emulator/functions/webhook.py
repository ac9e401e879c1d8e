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
from urllib.parse import parse_qsl

import msgpack

from ..contracts import verify_signature
from .errors import IndexingError, WebhookError

__all__ = [
    "JSON",
    "MSGPACK",
    "TriggerKey",
    "UpstreamMessage",
    "build_invocation_context",
    "check_headers",
    "check_trigger",
    "content_protocol",
    "encode_completion",
    "parse_claims",
    "parse_client_query",
    "parse_upstream_body",
    "trigger_key",
    "verify_upstream_signature",
]

JSON = "json"
MSGPACK = "messagepack"
RECORD_SEPARATOR = b"\x1e"
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


def content_protocol(content_type: str | None) -> str:
    """``json`` or ``messagepack`` from the Content-Type, else 415."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media == "application/json":
        return JSON
    if media == "application/x-msgpack":
        return MSGPACK
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


def _read_varint(data: bytes) -> tuple[int, int]:
    length, shift, index = 0, 0, 0
    while True:
        if index >= len(data) or index > 4:
            raise WebhookError("Bad request: truncated MessagePack length prefix")
        byte = data[index]
        length |= (byte & 0x7F) << shift
        index += 1
        if not byte & 0x80:
            return length, index
        shift += 7


def _unpack(data: bytes) -> Any:
    try:
        return msgpack.unpackb(data, raw=False, strict_map_key=False)
    except Exception as exc:
        raise WebhookError(f"Bad request: malformed MessagePack body ({exc})") from None


def _from_msgpack(body: bytes) -> UpstreamMessage:
    # The service sends the array without the varint length prefix (docs/signalr-service.md,
    # "Bodies");
    # a framed body (length prefix first) is accepted too.
    try:
        item = _unpack(body)
    except WebhookError:
        item = None
    if not isinstance(item, list):
        length, start = _read_varint(body)
        if len(body) != start + length:
            raise WebhookError("Bad request: MessagePack body is neither one message nor one "
                               "length-prefixed message")
        item = _unpack(body[start:])
    if not isinstance(item, list) or not item or not isinstance(item[0], int):
        raise WebhookError("Bad request: a MessagePack hub message must be an array")
    if item[0] == 1 and len(item) >= 5:
        args = item[4]
        if not isinstance(args, list):
            raise WebhookError("Bad request: invocation arguments must be an array")
        return UpstreamMessage(type=1, invocation_id=item[2], target=item[3],
                               arguments=_jsonable(args))
    if item[0] == 7:
        return UpstreamMessage(type=7, error=item[1] if len(item) > 1 else None)
    return UpstreamMessage(type=item[0])


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


def _from_json(body: bytes) -> UpstreamMessage:
    text = body.split(RECORD_SEPARATOR)[0] if body else b""
    if not text.strip():
        return UpstreamMessage(type=None)
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise WebhookError(f"Bad request: body is not JSON ({exc})") from None
    except RecursionError:
        raise WebhookError("Bad request: body is nested too deeply") from None
    if not isinstance(data, dict):
        raise WebhookError("Bad request: body must be a JSON object")
    lowered = {str(k).lower(): v for k, v in data.items()}
    kind = lowered.get("type")
    args = lowered.get("arguments")
    if args is not None and not isinstance(args, list):
        raise WebhookError("Bad request: invocation arguments must be an array")
    invocation_id = lowered.get("invocationid")
    return UpstreamMessage(type=kind if isinstance(kind, int) else None,
                           invocation_id=None if invocation_id is None else str(invocation_id),
                           target=lowered.get("target"), arguments=args,
                           error=lowered.get("error"))


def parse_upstream_body(body: bytes, protocol: str) -> UpstreamMessage:
    """Decode an upstream body; a malformed one is a 400."""
    return _from_msgpack(body) if protocol == MSGPACK else _from_json(body)


def parse_client_query(text: str | None) -> dict[str, str] | None:
    """X-ASRS-Client-Query as a dict, repeated keys joined by ``,`` (None if absent)."""
    if not text:
        return None
    result: dict[str, str] = {}
    for key, value in parse_qsl(text.lstrip("?"), keep_blank_values=True):
        result[key] = f"{result[key]},{value}" if key in result else value
    return result


def parse_claims(text: str | None) -> dict[str, str] | None:
    """X-ASRS-User-Claims ``type: value, type: value``; the first value per type wins."""
    if not text:
        return None
    result: dict[str, str] = {}
    for pair in text.split(","):
        key, sep, value = pair.partition(": ")
        key = key.strip()
        if sep and key and key not in result:
            result[key] = value.strip()
    return result


def build_invocation_context(headers: Iterable[tuple[str, str]],
                             message: UpstreamMessage) -> str:
    """The PascalCase InvocationContext JSON, nulls included, in declaration order.

    docs/functions-host.md, "SignalR trigger webhook".
    """
    joined: dict[str, str] = {}
    lowered: dict[str, str] = {}
    for name, value in headers:
        if name.lower() in _CONTENT_HEADERS:
            continue
        existing = next((k for k in joined if k.lower() == name.lower()), name)
        joined[existing] = f"{joined[existing]},{value}" if existing in joined else value
        lowered[name.lower()] = joined[existing]
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


def _varint(length: int) -> bytes:
    out = bytearray()
    while True:
        byte = length & 0x7F
        length >>= 7
        out.append(byte | (0x80 if length else 0))
        if not length:
            return bytes(out)


def encode_completion(invocation_id: str, protocol: str, *, result: Any = None,
                      error: str | None = None) -> bytes:
    """A CompletionMessage with ``result`` or ``error``, framed for ``protocol``.

    docs/functions-host.md, "SignalR trigger webhook".
    """
    if protocol == MSGPACK:
        if error is not None:
            item: list[Any] = [3, {}, invocation_id, 1, error]
        else:
            item = [3, {}, invocation_id, 3, result]
        packed = msgpack.packb(item, use_bin_type=True)
        return _varint(len(packed)) + packed
    message: dict[str, Any] = {"type": 3, "invocationId": invocation_id}
    if error is not None:
        message["error"] = error
    else:
        message["result"] = result
    return json.dumps(message, separators=(",", ":")).encode() + RECORD_SEPARATOR
