"""REST request pieces, pure: the message body and name rules.

docs/serverless-contracts.md, "REST API".
"""

from __future__ import annotations

import re
from typing import Any

import msgpack

from ...contracts.framing import RECORD_SEPARATOR
from ...contracts.json_hub import dumps, loads_with_spans
from ...contracts.messages import Invocation
from ...contracts.protocols import PROTOCOLS
from ...errors import BadRequest, ProtocolError, UnsupportedMediaType

__all__ = [
    "HUB_NAME",
    "LATEST_REST_VERSION",
    "REST_VERSIONS",
    "check_api_version",
    "check_connection_id",
    "check_group",
    "check_hub",
    "check_stream_id",
    "check_user",
    "parse_minutes_to_expire",
    "parse_payload",
    "parse_payload_message",
    "parse_ttl",
]

HUB_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_`,.\[\]]{0,127}$")
_JSON_TYPES = ("application/json", "text/json")
_MSGPACK_TYPE = "application/x-msgpack"
_BINARY_TYPE = "application/octet-stream"
_DIGITS = re.compile(r"[0-9]+")

REST_VERSIONS = ("2022-06-01", "2023-07-01", "2024-12-01")
"""The dated REST versions with a published spec, oldest first (docs/serverless-contracts.md,
"Versions and routes")."""
LATEST_REST_VERSION = REST_VERSIONS[-1]


def check_api_version(requested: str | None, since: str) -> None:
    """400 when ``requested`` names a published version older than ``since``, the first version
    whose spec has the route. A missing or unknown version is let through, as Microsoft's
    emulator lets every version through (docs/serverless-contracts.md, "Versions and routes")."""
    if requested is not None and requested in REST_VERSIONS and requested < since:
        raise BadRequest(f"api-version {requested} has no such operation; it was added in "
                         f"{since} (use api-version={LATEST_REST_VERSION})")


def check_hub(hub: str, application: str | None = None) -> str:
    """The internal hub name, lower-cased; ``{app}_{hub}`` when an application is given."""
    if not HUB_NAME.match(hub):
        raise BadRequest(f"invalid hub name {hub[:130]!r}")
    if application is not None:
        if not HUB_NAME.match(application):
            raise BadRequest(f"invalid application name {application[:130]!r}")
        return f"{application}_{hub}".lower()
    return hub.lower()


def check_group(group: str) -> str:
    if not 0 < len(group) <= 1024 or not group.strip():
        raise BadRequest("group name must be 1 to 1024 characters and not only whitespace")
    return group


def check_user(user: str) -> str:
    if not 0 < len(user) <= 1024:
        raise BadRequest("user id must be 1 to 1024 characters")
    return user


def check_connection_id(connection_id: str) -> str:
    if not connection_id:
        raise BadRequest("connection id must not be empty")
    return connection_id


def check_stream_id(stream_id: str) -> str:
    if not 0 < len(stream_id) <= 100 or not stream_id.strip():
        raise BadRequest("stream id must be 1 to 100 characters and not only whitespace")
    return stream_id


def parse_ttl(text: str | None) -> int | None:
    if text is None:
        return None
    if not _DIGITS.fullmatch(text):  # not str.isdigit: it takes "²", which int() refuses
        raise BadRequest("ttl must be a non-negative integer number of seconds")
    return int(text)


def parse_minutes_to_expire(text: str | None) -> int:
    """``minutesToExpire`` of ``:generateToken``: an int32 of at least 1, 60 when absent."""
    if text is None:
        return 60
    if not _DIGITS.fullmatch(text) or not 1 <= int(text) <= 2**31 - 1:
        raise BadRequest("minutesToExpire must be an integer of at least 1")
    return int(text)


def parse_payload_message(body: bytes, content_type: str) -> Invocation:
    """``{"target": str, "arguments": [...]}``, names matched case-insensitively.

    Clients receive it as an Invocation without invocationId.
    """
    message, _ = parse_payload(body, content_type)
    return message


def parse_payload(body: bytes, content_type: str) -> tuple[Invocation, dict[str, bytes]]:
    """The message, and any framings the caller supplied ready-made, by protocol name.

    ``application/json`` (and ``+json``): ``{"target", "arguments"}``. ``application/x-msgpack``:
    the same object as a MessagePack map. ``application/octet-stream``: the Management SDK's
    pre-serialised form, a MessagePack map ``{"json": bin, "messagepack": bin}`` holding one
    framed Invocation per hub protocol (docs/serverless-contracts.md, "Bodies").
    """
    if not body.strip():
        raise BadRequest("Message in request body is required.")
    media = content_type.split(";", 1)[0].strip().lower()
    if media == _BINARY_TYPE:
        return _parse_preencoded(body)
    if media == _MSGPACK_TYPE:
        obj = _unpack(body)
    elif not media or media in _JSON_TYPES or media.endswith("+json"):
        try:
            obj, arguments_text = _object_and_arguments(body)
        except ProtocolError as exc:
            raise BadRequest(f"request body is not valid JSON ({exc})") from None
        message = _payload_object(obj)
        if arguments_text is None:
            return message, {}
        # The JSON clients' frame takes the arguments as the body wrote them: a history of 100
        # messages is parsed once (for MessagePack clients, and to check it), never re-encoded.
        return message, {"json": b'{"type":1,"target":' + dumps(message.target)
                         + b',"arguments":' + arguments_text + b"}" + RECORD_SEPARATOR}
    else:
        raise UnsupportedMediaType(
            f"content type {media!r} is not supported; use application/json")
    return _payload_object(obj), {}


def _object_and_arguments(body: bytes) -> tuple[Any, bytes | None]:
    """The body's value, and the JSON text of its ``arguments`` member when it is an array
    (the last of that name, any case, as the value keeps it); else None."""
    value, spans = loads_with_spans(body)
    span = spans.get("arguments")
    if not isinstance(value, dict) or span is None:
        return value, None
    text, start, end = span
    return value, text[start:end].encode()


def _unpack(body: bytes) -> Any:
    try:
        return msgpack.unpackb(body, raw=False, strict_map_key=False)
    except Exception:  # msgpack raises several unrelated types for bad input
        raise BadRequest("request body is not valid MessagePack") from None


def _parse_preencoded(body: bytes) -> tuple[Invocation, dict[str, bytes]]:
    obj = _unpack(body)
    if not isinstance(obj, dict):
        raise BadRequest("request body must be a MessagePack map of protocol name to bytes")
    encoded: dict[str, bytes] = {}
    message: Invocation | None = None
    for name, protocol in PROTOCOLS.items():
        data = obj.get(name)
        if data is None:
            continue
        if not isinstance(data, bytes):
            raise BadRequest(f"'{name}' must hold bytes")
        try:
            decoded = protocol.decode(data)
        except ProtocolError as exc:
            raise BadRequest(f"'{name}' is not a framed {name} message ({exc})") from None
        if len(decoded) != 1 or not isinstance(decoded[0], Invocation):
            raise BadRequest(f"'{name}' must hold exactly one invocation")
        encoded[name] = data
        message = message or decoded[0]
    if message is None:
        raise BadRequest("request body holds no 'json' or 'messagepack' payload")
    return message, encoded


def _payload_object(obj: Any) -> Invocation:
    if not isinstance(obj, dict):
        raise BadRequest("request body must be an object")
    fields: dict[str, Any] = {str(k).lower(): v for k, v in obj.items()}
    target = fields.get("target")
    if not isinstance(target, str) or not target:
        raise BadRequest("'target' is required and must be a non-empty string")
    arguments = fields.get("arguments")
    if arguments is None:
        arguments = []
    if not isinstance(arguments, list):
        raise BadRequest("'arguments' must be an array")
    return Invocation(target=target, arguments=arguments)
