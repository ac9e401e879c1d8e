"""The entity batch format between the host and the Python SDK, pure (durable-python.md §2).

Request (EXT EntityContextToString): exactly ``self``, ``exists``, ``state``, ``batch`` — the SDK
turns every other top-level key into a constructor argument and fails on unknown ones. ``state``
is the stored JSON *text* (or null); each op's ``input`` is a JSON text (or null).
Result (SDK EntityState.to_json_string): ``entityExists``, ``entityState`` (JSON text),
``results`` (one per op: ``isError``, ``result``, ``duration``), ``signals``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..errors import EntityError

__all__ = [
    "BatchResult",
    "Operation",
    "OperationResult",
    "build_batch_request",
    "check_entity_key",
    "encode_signal_input",
    "parse_batch_result",
]

_FORBIDDEN_KEY_CHARS = set("/\\#?")


@dataclass(frozen=True)
class Operation:
    """One queued signal: the operation name and its input as JSON text (or None)."""

    name: str
    input: str | None = None


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
    """Keys with ``/ \\ # ?`` or control characters are refused with 400 (EXT EntityId)."""
    if any(c in _FORBIDDEN_KEY_CHARS or ord(c) < 32 or ord(c) == 127 for c in key):
        raise EntityError(f"entity key {key!r} contains a character that is not allowed "
                          f"(/ \\ # ? or a control character)", status_hint=400)


def encode_signal_input(body: bytes, content_type: str) -> str | None:
    """The op ``input`` for a signal body (EXT HttpApiHandler + RequestMessage.SetInput).

    Empty -> None; a JSON body is re-serialized compactly (so the SDK's ``json.dumps(input)``
    arrives double-encoded, as on Azure); any other body is treated as a string input.
    """
    if not body:
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise EntityError("signal body is not UTF-8", status_hint=400) from None
    if "json" in content_type.lower():
        try:
            value = json.loads(text)
        except ValueError:
            raise EntityError("signal body is not valid JSON", status_hint=400) from None
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return json.dumps(text, ensure_ascii=False)


def build_batch_request(name: str, key: str, exists: bool, state: str | None,
                        batch: list[Operation]) -> str:
    """The JSON text handed to the entity function for one batch of signals."""
    return json.dumps({
        "self": {"name": name.lower(), "key": key},
        "exists": exists,
        "state": state,
        "batch": [{"name": op.name, "input": op.input, "isSignal": True} for op in batch],
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
