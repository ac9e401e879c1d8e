"""The JSON hub protocol (docs/client-protocol.md, "JSON hub protocol"; dotnet/aspnetcore
``src/SignalR/docs/specs/HubProtocol.md``, "JSON Encoding").

UTF-8 JSON objects, each ended by 0x1E. Property names are case-sensitive; unknown properties
are ignored; properties may come in any order.
"""

from __future__ import annotations

import json
import math
from typing import Any, ClassVar

from ..errors import ProtocolError
from .codec import HubProtocol, RecordSplitter, check_headers, check_str, check_type_number
from .framing import RecordReader, frame_record
from .messages import (
    Ack,
    CancelInvocation,
    Close,
    Completion,
    HubMessage,
    Invocation,
    MessageType,
    Ping,
    Sequence,
    StreamInvocation,
    StreamItem,
)

__all__ = ["JsonHubProtocol", "dumps", "loads", "loads_with_spans"]


def _reject_constant(name: str) -> Any:
    raise ProtocolError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ProtocolError(f"number {text[:20]} is out of range")
    return value


def loads(data: bytes) -> Any:
    """Strict JSON (no NaN/Infinity, no number overflowing to infinity); errors: ProtocolError."""
    try:
        return json.loads(data.decode("utf-8"), parse_constant=_reject_constant,
                          parse_float=_finite_float)
    except UnicodeDecodeError:
        raise ProtocolError("message is not valid UTF-8") from None
    except (ValueError, RecursionError):
        raise ProtocolError("message is not valid JSON") from None


_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)
_SPACE = " \t\n\r"


def loads_with_spans(data: bytes) -> tuple[Any, dict[str, tuple[str, int, int]]]:
    """:func:`loads`, and for a top-level object where each array member's JSON text lies:
    lower-cased name -> (text, start, end), the last member of that name winning as in the
    value. The members are parsed one by one by the same C scanner, so nothing is read twice."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError("message is not valid UTF-8") from None
    start = len(text) - len(text.lstrip(_SPACE))
    if not text.startswith("{", start):
        return loads(data), {}
    try:
        return _object_with_spans(text, start + 1)
    except (ValueError, RecursionError, IndexError):
        raise ProtocolError("message is not valid JSON") from None


def _object_with_spans(text: str, at: int) -> tuple[Any, dict[str, tuple[str, int, int]]]:
    value: dict[str, Any] = {}
    spans: dict[str, tuple[str, int, int]] = {}
    scan = _DECODER.raw_decode

    def skip(i: int) -> int:
        while i < len(text) and text[i] in _SPACE:
            i += 1
        return i

    at = skip(at)
    if text[at] == "}":
        at += 1
    else:
        while True:
            if text[at] != '"':
                raise ValueError("expected a member name")
            name, at = scan(text, at)
            at = skip(at)
            if text[at] != ":":
                raise ValueError("expected ':'")
            start = skip(at + 1)
            member, at = scan(text, start)
            value[name] = member
            if isinstance(member, list):
                spans[name.lower()] = (text, start, at)
            else:
                spans.pop(name.lower(), None)
            at = skip(at)
            if text[at] == ",":
                at = skip(at + 1)
                continue
            if text[at] != "}":
                raise ValueError("expected ',' or '}'")
            at += 1
            break
    if skip(at) != len(text):
        raise ValueError("extra data")
    return value, spans


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
# Made once: json.dumps with any option builds a new encoder on every call.


def dumps(value: Any) -> bytes:
    return _ENCODER.encode(value).encode()


def _stream_ids(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ProtocolError("'streamIds' must be an array of strings")
    return tuple(value)


def _arguments(obj: dict[str, Any]) -> list[Any]:
    if "arguments" not in obj:
        raise ProtocolError("missing required property 'arguments'")
    arguments = obj["arguments"]
    if not isinstance(arguments, list):
        raise ProtocolError("'arguments' must be an array")
    return arguments


def _sequence_id(obj: dict[str, Any]) -> int:
    value = obj.get("sequenceId")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProtocolError("'sequenceId' must be a non-negative integer")
    return value


class JsonHubProtocol(HubProtocol):
    name: ClassVar[str] = "json"
    transfer_format: ClassVar[str] = "Text"
    content_type: ClassVar[str] = "application/json"

    def frame(self, payload: bytes) -> bytes:
        return frame_record(payload)

    def make_reader(self, max_size: int | None = None) -> RecordSplitter:
        return RecordReader(max_size)

    # -- encoding -----------------------------------------------------------------------------

    def encode_payload(self, message: HubMessage) -> bytes:
        obj: dict[str, Any] = {"type": int(message.type)}
        if isinstance(message, (Invocation, StreamInvocation)):
            if message.headers:
                obj["headers"] = dict(message.headers)
            if message.invocation_id is not None:
                obj["invocationId"] = message.invocation_id
            obj["target"] = message.target
            obj["arguments"] = message.arguments
            if message.stream_ids:
                obj["streamIds"] = list(message.stream_ids)
        elif isinstance(message, Completion):
            if message.headers:
                obj["headers"] = dict(message.headers)
            obj["invocationId"] = message.invocation_id
            if message.error is not None:
                obj["error"] = message.error
            elif message.has_result:
                obj["result"] = message.result
        elif isinstance(message, StreamItem):
            if message.headers:
                obj["headers"] = dict(message.headers)
            obj["invocationId"] = message.invocation_id
            obj["item"] = message.item
        elif isinstance(message, CancelInvocation):
            if message.headers:
                obj["headers"] = dict(message.headers)
            obj["invocationId"] = message.invocation_id
        elif isinstance(message, Close):
            if message.error is not None:
                obj["error"] = message.error
            if message.allow_reconnect is not None:
                obj["allowReconnect"] = message.allow_reconnect
        elif isinstance(message, (Ack, Sequence)):
            obj["sequenceId"] = message.sequence_id
        return dumps(obj)

    # -- decoding -----------------------------------------------------------------------------

    def decode_payload(self, payload: bytes) -> HubMessage:
        obj = loads(payload)
        if not isinstance(obj, dict):
            raise ProtocolError("message is not a JSON object")
        if "type" not in obj:
            raise ProtocolError("missing required property 'type'")
        kind = check_type_number(obj["type"])
        get = obj.get
        if kind == MessageType.INVOCATION:
            return Invocation(
                target=check_str(get("target"), "target", non_empty=True),
                arguments=_arguments(obj),
                invocation_id=check_str(get("invocationId"), "invocationId", optional=True),
                stream_ids=_stream_ids(get("streamIds")),
                headers=check_headers(get("headers")),
            )
        if kind == MessageType.STREAM_INVOCATION:
            return StreamInvocation(
                target=check_str(get("target"), "target", non_empty=True),
                invocation_id=check_str(get("invocationId"), "invocationId"),
                arguments=_arguments(obj),
                stream_ids=_stream_ids(get("streamIds")),
                headers=check_headers(get("headers")),
            )
        if kind == MessageType.STREAM_ITEM:
            if "item" not in obj:
                raise ProtocolError("missing required property 'item'")
            return StreamItem(
                invocation_id=check_str(get("invocationId"), "invocationId"),
                item=obj["item"],
                headers=check_headers(get("headers")),
            )
        if kind == MessageType.COMPLETION:
            error = check_str(get("error"), "error", optional=True)
            if error is not None and "result" in obj:
                raise ProtocolError("a completion has either 'result' or 'error', not both")
            return Completion(
                invocation_id=check_str(get("invocationId"), "invocationId"),
                result=get("result"),
                has_result="result" in obj,
                error=error,
                headers=check_headers(get("headers")),
            )
        if kind == MessageType.CANCEL_INVOCATION:
            return CancelInvocation(
                invocation_id=check_str(get("invocationId"), "invocationId"),
                headers=check_headers(get("headers")),
            )
        if kind == MessageType.PING:
            return Ping()
        if kind == MessageType.CLOSE:
            allow = get("allowReconnect")
            if allow is not None and not isinstance(allow, bool):
                raise ProtocolError("'allowReconnect' must be a boolean")
            return Close(error=check_str(get("error"), "error", optional=True),
                         allow_reconnect=allow)
        if kind == MessageType.ACK:
            return Ack(sequence_id=_sequence_id(obj))
        if kind == MessageType.SEQUENCE:
            return Sequence(sequence_id=_sequence_id(obj))
        raise ProtocolError(f"unknown message type {kind}")
