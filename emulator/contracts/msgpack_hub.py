"""The MessagePack hub protocol (docs/client-protocol.md, "MessagePack hub protocol"; the spec is
dotnet/aspnetcore ``src/SignalR/docs/specs/HubProtocol.md``, "MessagePack (MsgPack) encoding").

Each message is a MessagePack array whose first element is the type, preceded on the wire by a
VarInt length. Ping is always ``0x91 0x06``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import msgpack

from ..errors import ProtocolError
from .codec import HubProtocol, RecordSplitter, check_headers, check_str, check_type_number
from .framing import LengthPrefixReader, frame_length_prefixed
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

__all__ = ["MessagePackHubProtocol"]

_ERROR, _VOID, _RESULT = 1, 2, 3


def _unpack(payload: bytes) -> Any:
    try:
        return msgpack.unpackb(payload, raw=False, strict_map_key=False)
    except Exception:  # msgpack raises several unrelated types for bad input
        raise ProtocolError("message is not valid MessagePack") from None


def _item(array: list[Any], index: int, name: str) -> Any:
    if len(array) <= index:
        raise ProtocolError(f"missing '{name}' in a MessagePack message")
    return array[index]


def _arguments(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise ProtocolError("'arguments' must be an array")
    return value


def _stream_ids(array: list[Any], index: int) -> tuple[str, ...]:
    if len(array) <= index or array[index] is None:
        return ()
    value = array[index]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ProtocolError("'streamIds' must be an array of strings")
    return tuple(value)


def _sequence_id(array: list[Any]) -> int:
    value = _item(array, 1, "sequenceId")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProtocolError("'sequenceId' must be a non-negative integer")
    return value


class MessagePackHubProtocol(HubProtocol):
    name: ClassVar[str] = "messagepack"
    transfer_format: ClassVar[str] = "Binary"
    content_type: ClassVar[str] = "application/x-msgpack"

    def frame(self, payload: bytes) -> bytes:
        return frame_length_prefixed(payload)

    def make_reader(self, max_size: int | None = None) -> RecordSplitter:
        return LengthPrefixReader(max_size)

    def encode_payload(self, message: HubMessage) -> bytes:
        array: list[Any]
        if isinstance(message, (Invocation, StreamInvocation)):
            # Always six elements, streamIds possibly empty, as ASP.NET's writer does
            # (MessagePackHubProtocolWorker.WriteInvocationMessage); signalrcore needs all six.
            array = [int(message.type), dict(message.headers), message.invocation_id,
                     message.target, message.arguments, list(message.stream_ids)]
        elif isinstance(message, Completion):
            array = [int(message.type), dict(message.headers), message.invocation_id]
            if message.error is not None:
                array += [_ERROR, message.error]
            elif message.has_result:
                array += [_RESULT, message.result]
            else:
                array.append(_VOID)
        elif isinstance(message, StreamItem):
            array = [int(message.type), dict(message.headers), message.invocation_id, message.item]
        elif isinstance(message, CancelInvocation):
            array = [int(message.type), dict(message.headers), message.invocation_id]
        elif isinstance(message, Ping):
            array = [int(message.type)]
        elif isinstance(message, Close):
            array = [int(message.type), message.error]
            if message.allow_reconnect is not None:
                array.append(message.allow_reconnect)
        else:
            array = [int(message.type), message.sequence_id]
        packed: bytes = msgpack.packb(array, use_bin_type=True)
        return packed

    def decode_payload(self, payload: bytes) -> HubMessage:
        array = _unpack(payload)
        if not isinstance(array, list) or not array:
            raise ProtocolError("message is not a non-empty MessagePack array")
        kind = check_type_number(array[0])
        if kind in (MessageType.INVOCATION, MessageType.STREAM_INVOCATION):
            headers = check_headers(_item(array, 1, "headers"))
            invocation_id = check_str(_item(array, 2, "invocationId"), "invocationId",
                                      optional=kind == MessageType.INVOCATION)
            target = check_str(_item(array, 3, "target"), "target", non_empty=True)
            arguments = _arguments(_item(array, 4, "arguments"))
            stream_ids = _stream_ids(array, 5)
            if kind == MessageType.INVOCATION:
                return Invocation(target=target, arguments=arguments, invocation_id=invocation_id,
                                  stream_ids=stream_ids, headers=headers)
            return StreamInvocation(target=target, arguments=arguments,
                                    invocation_id=invocation_id, stream_ids=stream_ids,
                                    headers=headers)
        if kind == MessageType.STREAM_ITEM:
            return StreamItem(headers=check_headers(_item(array, 1, "headers")),
                              invocation_id=check_str(_item(array, 2, "invocationId"),
                                                      "invocationId"),
                              item=_item(array, 3, "item"))
        if kind == MessageType.COMPLETION:
            headers = check_headers(_item(array, 1, "headers"))
            invocation_id = check_str(_item(array, 2, "invocationId"), "invocationId")
            result_kind = _item(array, 3, "resultKind")
            if result_kind == _ERROR:
                error = check_str(_item(array, 4, "error"), "error")
                return Completion(invocation_id=invocation_id, error=error, headers=headers)
            if result_kind == _VOID:
                return Completion(invocation_id=invocation_id, headers=headers)
            if result_kind == _RESULT:
                return Completion(invocation_id=invocation_id, result=_item(array, 4, "result"),
                                  has_result=True, headers=headers)
            raise ProtocolError("invalid completion result kind")
        if kind == MessageType.CANCEL_INVOCATION:
            return CancelInvocation(headers=check_headers(_item(array, 1, "headers")),
                                    invocation_id=check_str(_item(array, 2, "invocationId"),
                                                            "invocationId"))
        if kind == MessageType.PING:
            return Ping()
        if kind == MessageType.CLOSE:
            error = check_str(array[1] if len(array) > 1 else None, "error", optional=True)
            allow = array[2] if len(array) > 2 else None
            if allow is not None and not isinstance(allow, bool):
                raise ProtocolError("'allowReconnect' must be a boolean")
            return Close(error=error, allow_reconnect=allow)
        if kind == MessageType.ACK:
            return Ack(sequence_id=_sequence_id(array))
        if kind == MessageType.SEQUENCE:
            return Sequence(sequence_id=_sequence_id(array))
        raise ProtocolError(f"unknown message type {kind}")
