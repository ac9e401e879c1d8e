"""Durable entities, the pure part: the host's batch JSON and the messages to and from entities."""

from .protocol import (
    BatchResult,
    Operation,
    OperationResult,
    build_batch_request,
    check_entity_key,
    decode_request,
    encode_request,
    encode_response,
    encode_signal_input,
    parse_batch_result,
    split_scheduler_id,
)

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
