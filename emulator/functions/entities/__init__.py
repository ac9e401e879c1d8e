"""Durable entities, the pure part: the host's batch JSON, the messages to and from entities,
and the deltas the store saves between snapshots of a state."""

from .deltas import decode_state, diff_state, encode_state, replay_state
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
    "decode_state",
    "diff_state",
    "encode_request",
    "encode_response",
    "encode_signal_input",
    "encode_state",
    "parse_batch_result",
    "replay_state",
    "split_scheduler_id",
]
