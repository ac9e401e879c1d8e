"""The entity batch format between the host and the Python SDK, pure (docs/durable.md "Entities").

Request (the extension's ``EntityContextToString``): exactly ``self``, ``exists``, ``state``,
``batch``; the SDK turns every other top-level key into a constructor argument and fails on unknown
ones. ``state`` is the stored JSON *text* (or null); each op's ``input`` is a JSON text (or null).
Result (the SDK's ``EntityState.to_json_string``): ``entityExists``, ``entityState`` (JSON text),
``results`` (one per op: ``isError``, ``result``, ``duration``), ``signals``.
Messages to an entity are the extension's ``RequestMessage`` JSON (``op``, ``signal``, ``input``,
``id``, ``parent``, ``parentExecution``); a caller gets a ``ResponseMessage`` (``result``, and
``exceptionType`` when the operation failed) as an event named after the request id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ...errors import EntityError

__all__ = [
    "BatchResult",
    "Operation",
    "OperationResult",
    "build_batch_request",
    "check_entity_key",
    "decode_request",
    "encode_request",
    "encode_response",
    "encode_signal_input",
    "parse_batch_result",
    "split_scheduler_id",
]

_FORBIDDEN_KEY_CHARS = set("/\\#?")
_compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
"""Made once: json.dumps with any option builds a new encoder on every call."""


@dataclass(frozen=True)
class Operation:
    """One queued request: the operation name and its input as JSON text (or None).

    ``is_signal`` False is a call from an orchestration (``parent``) that waits for the answer.
    """

    name: str
    input: str | None = None
    is_signal: bool = True
    id: str = ""
    parent: str | None = None
    parent_execution: str | None = None


def encode_request(op: Operation) -> str:
    """The RequestMessage JSON the store queues for an entity."""
    data: dict[str, Any] = {"op": op.name}
    if op.is_signal:
        data["signal"] = True
    if op.input is not None:
        data["input"] = op.input
    data["id"] = op.id
    if op.parent is not None:
        data.update(parent=op.parent, parentExecution=op.parent_execution)
    return _compact(data)


def decode_request(text: str) -> Operation:
    """A queued RequestMessage (EntityError when it is not one)."""
    try:
        data = json.loads(text)
    except ValueError:
        raise EntityError("a queued entity request is not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("op"), str):
        raise EntityError("a queued entity request has no operation")
    value = data.get("input")
    return Operation(name=data["op"], input=None if value is None else str(value),
                     is_signal=bool(data.get("signal")), id=str(data.get("id") or ""),
                     parent=data.get("parent"), parent_execution=data.get("parentExecution"))


def encode_response(result: str | None, is_error: bool) -> str:
    """The ResponseMessage JSON an orchestration gets for its ``call_entity``."""
    data: dict[str, Any] = {"result": result}
    if is_error:
        data["exceptionType"] = "Error"
    return _compact(data)


def split_scheduler_id(scheduler_id: str) -> tuple[str, str]:
    """``@name@key`` -> (name, key) (EntityId.GetEntityIdFromSchedulerId)."""
    if not scheduler_id.startswith("@") or "@" not in scheduler_id[1:]:
        raise EntityError(f"{scheduler_id!r} is not an entity id (@name@key)")
    name, key = scheduler_id[1:].split("@", 1)
    return name, key


@dataclass(frozen=True)
class OperationResult:
    is_error: bool
    result: str | None
    duration: int = 0


@dataclass(frozen=True)
class BatchResult:
    exists: bool
    state: str | None
    results: tuple[OperationResult, ...]


def check_entity_key(key: str) -> None:
    """Keys with ``/ \\ # ?`` or control characters are refused with 400 (DurableClient)."""
    if any(c in _FORBIDDEN_KEY_CHARS or ord(c) < 32 or ord(c) == 127 for c in key):
        raise EntityError(f"entity key {key!r} contains a character that is not allowed "
                          f"(/ \\ # ? or a control character)", status_hint=400)


def encode_signal_input(body: bytes, content_type: str) -> str | None:
    """The op ``input`` for a signal body (HttpApiHandler + RequestMessage.SetInput).

    Empty -> None; a body whose media type is ``application/json`` is parsed and re-serialized
    compactly (so the SDK's ``json.dumps(input)`` arrives double-encoded, as on Azure); any other
    body is a string input.
    """
    if not body:
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise EntityError("signal body is not UTF-8", status_hint=400) from None
    if content_type.split(";", 1)[0].strip().lower() == "application/json":
        try:
            value = json.loads(text)
        except ValueError:
            raise EntityError("signal body is not valid JSON", status_hint=400) from None
        return _compact(value)
    return json.dumps(text, ensure_ascii=False)


def build_batch_request(name: str, key: str, exists: bool, state: str | None,
                        batch: list[Operation]) -> str:
    """The JSON text handed to the entity function for one batch of signals."""
    return json.dumps({
        "self": {"name": name.lower(), "key": key},
        "exists": exists,
        "state": state,
        "batch": [{"name": op.name, "input": op.input, "isSignal": op.is_signal}
                  for op in batch],
    })


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value)


def parse_batch_result(value: Any, batch_size: int) -> BatchResult:
    """Parse what the SDK returned; anything malformed is an EntityError (state not stored)."""
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("utf-8", "replace")
    try:
        data = json.loads(value) if isinstance(value, str) else value
    except (ValueError, RecursionError):
        raise EntityError("the entity function returned text that is not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("entityExists"), bool):
        raise EntityError("the entity function did not return an entity state "
                          "(is it decorated with entity_trigger?)")
    results = data.get("results")
    if not isinstance(results, list):
        raise EntityError("the entity function returned no list of results")
    if len(results) != batch_size:
        raise EntityError(f"the entity function returned {len(results)} results for "
                          f"{batch_size} operations")
    if not all(isinstance(r, dict) for r in results):
        raise EntityError("an operation result is not an object")
    try:
        parsed = tuple(OperationResult(is_error=bool(r.get("isError")),
                                       result=_text(r.get("result")),
                                       duration=_duration(r.get("duration")))
                       for r in results)
        state = _text(data.get("entityState"))
    except (TypeError, ValueError, RecursionError):
        raise EntityError("the entity function returned a result that is not JSON") from None
    return BatchResult(exists=data["entityExists"], state=state, results=parsed)


def _duration(value: Any) -> int:
    """Milliseconds; anything that is not a finite number counts as 0 (it is only logged)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        return 0
    if value in (float("inf"), float("-inf")):
        return 0
    return int(value)
