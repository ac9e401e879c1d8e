"""The generator counts messages pushed live, not their repeats in a late ``history``."""

from __future__ import annotations

import json

import msgpack

from benchmarks.clients import _without_history_binary, _without_history_text
from benchmarks.wire import TAG, varint


def _json_record(target: str, text: str) -> str:
    return json.dumps({"type": 1, "target": target, "arguments": [{"text": text}]}) + "\x1e"


def _msgpack_record(target: str, text: str) -> bytes:
    record = msgpack.packb([1, {}, None, target, [{"text": text}]])
    return varint(len(record)) + record


def test_json_history_records_are_dropped_and_live_ones_kept() -> None:
    frame = (_json_record("newMessage", "#m1.1#") + _json_record("history", "#m1.0# #m2.0#")
             + _json_record("newMessage", "#m2.1#"))
    assert TAG.findall(_without_history_text(frame).encode()) == [(b"1", b"1"), (b"2", b"1")]


def test_a_message_whose_text_says_history_is_still_counted() -> None:
    frame = _json_record("newMessage", 'the "history" of #m3.4#')
    assert TAG.findall(_without_history_text(frame).encode()) == [(b"3", b"4")]


def test_messagepack_history_records_are_dropped_and_live_ones_kept() -> None:
    long_text = "#m5.0#" + "x" * 300  # a length prefix of two bytes
    frame = (_msgpack_record("history", long_text) + _msgpack_record("newMessage", "#m5.1#")
             + _msgpack_record("history", "#m5.2#"))
    assert TAG.findall(_without_history_binary(frame)) == [(b"5", b"1")]
