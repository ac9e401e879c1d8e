"""The durable store: every step is one transaction, and a reopened file carries on."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest

from emulator.functions.durable_store import (
    ACTIVITY,
    ENTITY,
    MAX_DELTAS,
    DurableStore,
    EntityRecord,
)
from emulator.functions.orchestrations import (
    ActivityWork,
    Decision,
    EntityRequest,
    EventType,
    HistoryEvent,
    InstanceRecord,
    Notify,
    OrchestrationStatus,
    StartInstance,
)

T0 = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


def ids():
    return (f"x{n}" for n in count())


def test_store_migrates_an_entity_only_file(tmp_path) -> None:
    path = tmp_path / "entities.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE entities (name TEXT NOT NULL, key TEXT NOT NULL, "
                   "exists_ INTEGER NOT NULL, state TEXT, PRIMARY KEY (name, key))")
        db.execute("INSERT INTO entities VALUES ('chatroom', 'lobby', 1, '[1]')")
    store = DurableStore(path, "MyHub")
    assert store.load_entity("MYHUB", "ChatRoom", "lobby") == EntityRecord(True, "[1]")
    assert store.load_entity("other", "chatroom", "lobby") == EntityRecord(False, None)
    store.close()


def test_store_entities_per_hub_listing_and_delete(tmp_path) -> None:
    store = DurableStore(tmp_path / "s.sqlite3")
    for key in ("b", "a", "c"):
        store.commit_entity_batch("h", "Room", key, EntityRecord(True, f'"{key}"'), [], [], T0)
    assert store.load_entity("h", "room", "A") == EntityRecord(False, None)
    first = store.list_entities("h", "room", after=None, limit=2, since=None, until=None)
    assert [(r.name, r.key, r.state) for r in first] == [("room", "a", '"a"'),
                                                         ("room", "b", '"b"')]
    rest = store.list_entities("h", None, after=("room", "b"), limit=2, since=None, until=None)
    assert [r.key for r in rest] == ["c"] and rest[0].updated == T0
    assert store.list_entities("h", None, after=None, limit=9, since=T0 + timedelta(1),
                               until=None) == []
    store.commit_entity_batch("h", "room", "a", EntityRecord(False, "null"), [], [], T0)
    assert store.load_entity("h", "room", "a") == EntityRecord(False, None)
    assert store.list_entities("other", None, after=None, limit=9, since=None, until=None) == []


def test_store_entity_requests_are_consumed_with_the_batch(tmp_path) -> None:
    store = DurableStore(tmp_path / "s.sqlite3")
    store.queue_entity_requests([("h", "@room@k", '{"op":"a"}')], T0)
    store.queue_entity_requests([("h", "@room@k", '{"op":"b"}')], T0)
    rows = store.take_entity_requests("h", "@room@k", 50)
    assert [text for _, text in rows] == ['{"op":"a"}', '{"op":"b"}']
    answer = Notify("orch", HistoryEvent(kind=EventType.EVENT_RAISED, timestamp=T0, name="r",
                                         input='{"result":"1"}'))
    wakes = store.commit_entity_batch("h", "room", "k", EntityRecord(True, "1"),
                                      [rows[0][0]], [answer], T0)
    assert [(w.kind, w.target) for w in wakes] == [("orchestration", "orch")]
    assert [text for _, text in store.take_entity_requests("h", "@room@k", 50)] == ['{"op":"b"}']
    assert store.take_messages("h", "orch", T0)[0][2].name == "r"


def start(store: DurableStore, instance_id: str = "i") -> None:
    store.start_instance("h", StartInstance(instance_id, "orch", '"in"'), "e1", T0)


def started(store: DurableStore) -> tuple[InstanceRecord, int, HistoryEvent]:
    """A new instance "i" and its ExecutionStarted message."""
    start(store)
    record = store.load_instance("h", "i")
    assert record is not None
    (seq, _, event), = store.take_messages("h", "i", T0)
    return record, seq, event


def test_store_episode_commits_history_status_and_work_together(tmp_path) -> None:
    path = tmp_path / "s.sqlite3"
    store = DurableStore(path)
    start(store)
    record = store.load_instance("H", "i")
    assert record is not None and record.status == OrchestrationStatus.PENDING
    (seq, execution, started), = store.take_messages("h", "i", T0)
    assert (execution, started.kind, started.input) == ("e1", EventType.EXECUTION_STARTED, '"in"')
    timer = HistoryEvent(kind=EventType.TIMER_FIRED, timestamp=T0, task_id=1, fire_at=T0)
    decision = Decision(events=(started,), status=OrchestrationStatus.RUNNING,
                        custom_status='"busy"', outgoing=(
                            ActivityWork(0, "hello", '"a"'),
                            Notify("i", timer, visible_at=T0 + timedelta(minutes=5)),
                            EntityRequest("@room@k", '{"op":"x"}'),
                            StartInstance("child", "orch", None, {"instance_id": "i"})))
    wakes = store.commit_episode("h", record, [seq], decision, T0, ids())
    assert [w.kind for w in wakes] == [ACTIVITY, "orchestration", ENTITY, "orchestration"]
    assert store.take_messages("h", "i", T0) == []  # the timer is not visible yet
    assert store.take_messages("h", "i", T0 + timedelta(minutes=5))[0][2].kind == \
        EventType.TIMER_FIRED
    store.close()

    reopened = DurableStore(path)  # as after a kill -9: everything is still queued
    assert [e.kind for e in reopened.load_history("h", "i")] == [EventType.EXECUTION_STARTED]
    again = reopened.load_instance("h", "i")
    assert again is not None and (again.status, again.custom_status) == (
        OrchestrationStatus.RUNNING, '"busy"')
    assert {(w.kind, w.target) for w in reopened.pending()} == {
        ("orchestration", "i"), ("entity", "@room@k"), ("orchestration", "child")}
    (item,) = reopened.take_activities("h")
    assert item.work == ActivityWork(0, "hello", '"a"') and item.execution_id == "e1"
    done = HistoryEvent(kind=EventType.TASK_COMPLETED, timestamp=T0, task_id=0, result='"hi"')
    assert reopened.complete_activity(item, done, T0) is not None
    assert reopened.complete_activity(item, done, T0) is None  # at most one answer
    assert reopened.purge("h", ["i", "nope"]) == 1
    assert reopened.load_instance("h", "i") is None and reopened.take_activities("h") == []


def test_store_failed_commit_changes_nothing(tmp_path) -> None:
    store = DurableStore(tmp_path / "s.sqlite3")
    record, seq, first = started(store)
    broken = Decision(events=(first,), status=OrchestrationStatus.RUNNING, outgoing=(
        ActivityWork(0, "hello", None), StartInstance("c", "orch", None, {"bad": object()})))
    with pytest.raises(TypeError):
        store.commit_episode("h", record, [seq], broken, T0, ids())
    assert store.load_history("h", "i") == [] and store.take_activities() == []
    assert len(store.take_messages("h", "i", T0)) == 1


def test_store_continue_as_new_resets_history_and_restarts(tmp_path) -> None:
    store = DurableStore(tmp_path / "s.sqlite3")
    record, seq, first = started(store)
    store.commit_episode("h", record, [seq], Decision(
        events=(first,), status=OrchestrationStatus.RUNNING), T0, ids())
    late = Notify("i", HistoryEvent(kind=EventType.TIMER_FIRED, timestamp=T0, task_id=0),
                  visible_at=T0 + timedelta(hours=1))
    store.commit_episode("h", record, [], Decision(
        events=(), status=OrchestrationStatus.CONTINUED_AS_NEW, continue_as_new='"next"',
        outgoing=(late,)), T0, ids())
    later = store.take_messages("h", "i", T0 + timedelta(hours=1))
    assert [execution for _, execution, _ in later] == ["x0", "e1"]  # the old timer stays old
    again = store.load_instance("h", "i")
    assert again is not None and (again.input, again.execution_id) == ('"next"', "x0")
    assert store.load_history("h", "i") == []
    (_, execution, event), = store.take_messages("h", "i", T0)
    assert (execution, event.kind, event.input) == ("x0", EventType.EXECUTION_STARTED, '"next"')



def test_store_open_falls_back_to_memory(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    store = DurableStore.open(blocker / "data" / "s.sqlite3")
    assert store.problem and "Not a directory" in store.problem
    start(store)
    assert store.load_instance("h", "i") is not None


def _room(first: int, last: int) -> str:
    return json.dumps({"messages": [{"id": f"m{n}", "text": "hi " * 30}
                                    for n in range(first, last)]})


def _row_sizes(path) -> tuple[int, int]:
    with sqlite3.connect(path) as db:
        snapshot = db.execute("SELECT length(state) FROM entities").fetchone()[0]
        deltas = db.execute("SELECT count(*) FROM entity_deltas").fetchone()[0]
    return snapshot, deltas


def test_store_saves_a_small_change_as_a_delta_and_reloads_the_same_state(tmp_path) -> None:
    path = tmp_path / "s.sqlite3"
    store = DurableStore(path)
    for n in range(5):
        store.commit_entity_batch("h", "room", "lobby", EntityRecord(True, _room(n, n + 100)),
                                  [], [], T0)
    snapshot, deltas = _row_sizes(path)
    assert deltas == 4 and snapshot == len(_room(0, 100))  # only the first save was whole
    store.close()
    reopened = DurableStore(path)  # nothing in memory: the snapshot and deltas replayed
    assert reopened.load_entity("h", "room", "lobby") == EntityRecord(True, _room(4, 104))
    listed = reopened.list_entities("h", None, after=None, limit=9, since=None, until=None)
    assert [r.state for r in listed] == [_room(4, 104)]
    reopened.commit_entity_batch("h", "room", "lobby", EntityRecord(True, _room(5, 105)),
                                 [], [], T0)
    assert _row_sizes(path)[1] == 5
    reopened.close()


def test_store_writes_a_new_snapshot_after_many_deltas_or_a_large_change(tmp_path) -> None:
    path = tmp_path / "s.sqlite3"
    store = DurableStore(path)
    for n in range(MAX_DELTAS + 2):
        store.commit_entity_batch("h", "room", "lobby", EntityRecord(True, _room(n, n + 100)),
                                  [], [], T0)
    assert _row_sizes(path)[1] < MAX_DELTAS
    store.commit_entity_batch("h", "room", "lobby", EntityRecord(True, '"replaced"'), [], [], T0)
    assert _row_sizes(path) == (len('"replaced"'), 0)
    store.commit_entity_batch("h", "room", "lobby", EntityRecord(False, None), [], [], T0)
    assert store.load_entity("h", "room", "lobby") == EntityRecord(False, None)
    store.close()


def test_store_failed_save_keeps_the_state_the_file_holds(tmp_path) -> None:
    store = DurableStore(tmp_path / "s.sqlite3")
    store.commit_entity_batch("h", "room", "k", EntityRecord(True, _room(0, 100)), [], [], T0)
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {pages}")  # a full disk
    with pytest.raises(sqlite3.Error):
        store.commit_entity_batch("h", "room", "k", EntityRecord(True, _room(200, 400)), [],
                                  [], T0)
    store._db.execute("PRAGMA max_page_count = 1073741823")
    assert store.load_entity("h", "room", "k") == EntityRecord(True, _room(0, 100))
    store.commit_entity_batch("h", "room", "k", EntityRecord(True, _room(1, 101)), [], [], T0)
    assert DurableStore(tmp_path / "s.sqlite3").load_entity("h", "room", "k") == EntityRecord(
        True, _room(1, 101))
    store.close()


def test_store_commits_leave_checkpoints_to_their_own_connection(tmp_path) -> None:
    path = tmp_path / "s.sqlite3"
    store = DurableStore(path)
    before = store.commits
    for n in range(20):
        store.commit_entity_batch("h", "room", "k", EntityRecord(True, _room(n, n + 100)), [],
                                  [], T0)
    assert store.commits - before == 20
    assert store._db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] > 10_000
    store.checkpoint()  # every frame of the WAL is now in the database file
    with sqlite3.connect(path) as db:
        busy, frames, copied = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert busy == 0 and frames == copied
    store.close()
    DurableStore(":memory:").checkpoint()  # nothing to do
