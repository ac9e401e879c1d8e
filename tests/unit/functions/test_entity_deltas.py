"""Entity state deltas: what changed between two states, and the same state back from them."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from emulator.functions.entities import decode_state, diff_state, encode_state, replay_state


def _history(first: int, last: int) -> dict[str, Any]:
    return {"messages": [{"id": f"m{n}", "text": "hello " * 10} for n in range(first, last)]}


CASES = [
    ("a history that slides", _history(0, 100), _history(1, 101)),
    ("a history that grows", _history(0, 50), _history(0, 53)),
    ("a key set beside a list", {**_history(0, 40), "n": 1}, {**_history(0, 40), "n": 2}),
    ("a key removed", {**_history(0, 40), "old": [1]}, _history(0, 40)),
    ("a list emptied", _history(0, 40), {"messages": []}),
]


@pytest.mark.parametrize(("case", "old", "new"), CASES, ids=[c[0] for c in CASES])
def test_entity_delta_replays_to_the_new_state_text(case: str, old: Any, new: Any) -> None:
    old_text = encode_state(old)
    delta = diff_state(old, new, old_size=len(old_text))
    assert delta is not None and len(delta) * 2 < len(old_text)
    replayed = replay_state(decode_state(old_text), [delta])
    assert encode_state(replayed) == json.dumps(new)  # the text the SDK writes


def test_entity_delta_of_a_slide_names_only_the_change() -> None:
    old, new = _history(0, 100), _history(1, 101)
    delta = json.loads(diff_state(old, new, old_size=len(encode_state(old))) or "null")
    assert delta == {"messages": {"drop": 1, "add": [new["messages"][-1]]}}


@pytest.mark.parametrize(("old", "new"), [
    ("text", "other"),  # not objects
    ([1, 2], [2, 3]),
    ({"n": 1}, {"n": 2}),  # a delta as large as the state
    (_history(0, 10), _history(10, 20)),  # everything changed
])
def test_entity_delta_is_none_when_the_state_is_better_saved_whole(old: Any, new: Any) -> None:
    assert diff_state(old, new, old_size=len(encode_state(old))) is None


def test_entity_deltas_replay_in_order() -> None:
    states = [_history(n, n + 30) for n in range(5)]
    deltas = [diff_state(a, b, old_size=len(encode_state(a)))
              for a, b in itertools.pairwise(states)]
    assert all(deltas)
    assert replay_state(decode_state(encode_state(states[0])),
                        [d for d in deltas if d]) == states[-1]


def test_entity_delta_refuses_a_state_it_does_not_apply_to() -> None:
    with pytest.raises(ValueError, match="object state"):
        replay_state([1], ['{"a":{"set":1}}'])
    with pytest.raises(ValueError, match="list"):
        replay_state({"a": 1}, ['{"a":{"drop":1,"add":[]}}'])


def test_entity_state_decode_of_nothing_or_not_json_is_none() -> None:
    assert decode_state(None) is None
    assert decode_state("{not json") is None
