"""Durable entities: the host's batch JSON (pure) and the SQLite state store."""

from .protocol import (
    BatchResult,
    Operation,
    build_batch_request,
    check_entity_key,
    encode_signal_input,
    parse_batch_result,
)
from .store import EntityRecord, EntityStore

__all__ = [
    "BatchResult",
    "EntityRecord",
    "EntityStore",
    "Operation",
    "build_batch_request",
    "check_entity_key",
    "encode_signal_input",
    "parse_batch_result",
]
