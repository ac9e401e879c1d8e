"""ChatRoom entity state: idempotent by id, ordered by time, cut to the newest."""

from __future__ import annotations

from chat import append_message, history_messages


def message(id: str, time: str) -> dict[str, str]:
    return {"id": id, "time": time, "text": id}


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
    assert [m["id"] for m in state["messages"]] == ["m2", "m3", "m4"]
    late = append_message(state, message("old", "2025-01-01T00:00:00.000Z"), 3)
    assert [m["id"] for m in late["messages"]] == ["m2", "m3", "m4"]


def test_append_message_ignores_a_message_without_an_id() -> None:
    assert append_message(None, {"text": "x"}, 10) == {"messages": []}


def test_history_messages_of_a_missing_or_odd_state() -> None:
    assert history_messages(None) == []
    assert history_messages("garbage") == []
    state = {"messages": [message("a", "1"), "junk", message("b", "2")]}
    assert [m["id"] for m in history_messages(state, limit=1)] == ["b"]
