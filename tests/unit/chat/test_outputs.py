"""Output items, JSON spliced in once encoded, and the size bound the history relies on."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from chat.outputs import Encoded, encode, encode_item, encoded_size, to_all, to_connection


def test_encode_splices_encoded_arguments_as_json() -> None:
    items = [to_connection("c1", "history", Encoded('[{"id":"m"}]')),
             to_all("userLeft", {"user": "a"})]
    assert json.loads(encode(items) or "") == [
        {"target": "history", "arguments": [[{"id": "m"}]], "connectionId": "c1"},
        {"target": "userLeft", "arguments": [{"user": "a"}]},
    ]
    assert encode([]) is None


def test_encode_item_keeps_plain_strings_as_strings() -> None:
    assert json.loads(encode_item(to_all("t", "[1]"))) == {"target": "t", "arguments": ["[1]"]}


@given(st.text(max_size=200))
def test_encoded_size_is_never_less_than_utf8(text: str) -> None:
    value = {"text": text}
    raw = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    utf8 = len(raw.encode("utf-8", "surrogatepass"))
    assert encoded_size(value) >= utf8
