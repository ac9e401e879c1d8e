"""ChatRoom entity state: idempotent by id, ordered by time, bounded by count and bytes."""

from __future__ import annotations

import json

from chat import HISTORY_BYTES, History, append_message, history_messages, new_message


def message(id: str, time: str, text: str | None = None) -> dict[str, str]:
    return {"id": id, "time": time, "text": text or id}


def test_append_message_is_idempotent_by_id() -> None:
    state = append_message(None, message("a", "2026-01-01T00:00:01.000Z"), 10)
    again = append_message(state, message("a", "2026-01-01T00:00:01.000Z"), 10)
    assert [m["id"] for m in again["messages"]] == ["a"]


def test_append_message_orders_out_of_order_arrivals_by_time() -> None:
    state = None
    for id, second in (("c", 3), ("a", 1), ("b", 2)):
        state = append_message(state, message(id, f"2026-01-01T00:00:0{second}.000Z"), 10)
    assert [m["id"] for m in history_messages(state)] == ["a", "b", "c"]


def test_append_message_keeps_only_the_newest() -> None:
    state = None
    for index in range(5):
        state = append_message(state, message(f"m{index}", f"2026-01-01T00:00:0{index}.000Z"), 3)
    assert state is not None
    assert [m["id"] for m in state["messages"]] == ["m2", "m3", "m4"]
    late = append_message(state, message("old", "2025-01-01T00:00:00.000Z"), 3)
    assert [m["id"] for m in late["messages"]] == ["m2", "m3", "m4"]


def test_history_is_bounded_by_bytes_whatever_people_write() -> None:
    """100 broadcasts of 2,000 non-ASCII characters: the history stays far below 1 MB."""
    history = History()
    for n in range(100):
        payload = new_message(id=f"m{n:03}", sender="ada", connection_id="c", text="é" * 2000,
                              now=1_700_000_000 + n).to_payload()
        history = history.append(payload, limit=100)
    worst_case = len(json.dumps(history.newest()))  # every é escaped as \u00e9
    assert worst_case <= HISTORY_BYTES < 1_000_000
    assert 5 < len(history.messages) < 100
    assert history.messages[-1]["id"] == "m099", "the newest are kept"


def test_history_encoded_is_the_newest_as_json_made_once() -> None:
    history = History.from_json({"messages": [message("a", "1"), message("b", "2")]})
    assert json.loads(history.encoded(1)) == [message("b", "2")]
    assert history.encoded(1) is history.encoded(1)


def test_append_message_ignores_a_message_without_an_id() -> None:
    assert append_message(None, {"text": "x"}, 10) == {"messages": []}


def test_history_messages_of_a_missing_or_odd_state() -> None:
    assert history_messages(None) == []
    assert history_messages("garbage") == []
    assert history_messages({"messages": 5}) == []
    state = {"messages": [message("a", "1"), "junk", {"no": "id"}, message("b", "2")]}
    assert [m["id"] for m in history_messages(state, limit=1)] == ["b"]


def test_history_keeps_the_most_newest_messages_that_fit_the_byte_bound() -> None:
    """The kept messages as one escaped JSON array fit; one more of the older would not."""
    history = History()
    for n in range(30):
        history = history.append(message(f"m{n:02}", f"2026-01-01T00:00:{n:02}.000Z",
                                         "ü" * (n * 7 % 23)), limit=100, max_bytes=600)
        kept = list(history.messages)
        assert len(json.dumps(kept, separators=(",", ":"))) <= 600
        assert kept[-1]["id"] == f"m{n:02}"
        older = [message(f"m{i:02}", f"2026-01-01T00:00:{i:02}.000Z", "ü" * (i * 7 % 23))
                 for i in range(n + 1)][: n + 1 - len(kept)]
        if older:
            assert len(json.dumps([older[-1], *kept], separators=(",", ":"))) > 600


def test_history_size_follows_appends_and_drops_exactly() -> None:
    history = History()
    for n in range(40):
        history = history.append(message(f"m{n:02}", f"2026-01-01T00:00:{n % 60:02}.{n:03}Z",
                                         "€" * (n % 5)), limit=7, max_bytes=400)
        expected = len(json.dumps(list(history.messages), separators=(",", ":")))
        assert history.size == expected
        assert History(history.messages).size == expected


def test_a_state_set_in_a_batch_is_read_back_without_parsing() -> None:
    first = append_message(None, message("a", "1"), 10)
    second = append_message(first, message("b", "2"), 10)
    assert History.from_json(second) is History.from_json(second)
    assert json.loads(json.dumps(second)) == {"messages": [message("a", "1"), message("b", "2")]}
    assert History.from_json(json.loads(json.dumps(second))) == History.from_json(second)
