"""The durable store: entity state, orchestration instances and history, and pending work.

One SQLite file, ``<data dir>/entities.sqlite3`` (the name entity-only versions used, so their
state carries over). Everything is kept per task hub. ``messages`` is the work queue: messages to
orchestrations (history events, timers with the time they become visible), activity work items and
requests to entities. Every step of the host commits its whole outcome in one transaction (the
work it consumed, the history or state it wrote, the messages it sent), so after a crash, even a
``kill -9``, the host re-reads ``messages`` and carries on: work runs at least once, as on Azure.

Every method runs on the caller's thread (the host calls them in order: on its event loop, or
on its store thread while another process holds a lock; checkpoints on a thread of their own)
and may raise ``sqlite3.Error`` (disk full, read-only file, a lock another process holds past the
busy timeout): callers report it with :func:`describe_store_error` and keep serving. A file that is
not a database, or fails SQLite's ``quick_check``, is found once when the store opens: it is
moved aside (``entities.sqlite3.corrupt-<UTC time>``, with its ``-wal`` / ``-shm``) and a fresh
store takes its place (docs/durable.md, "Durability").
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .entities import decode_state, diff_state, encode_state, replay_state
from .orchestrations import (
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

__all__ = ["DEFAULT_BUSY_TIMEOUT", "ActivityItem", "DurableStore", "EntityRecord", "EntityRow",
           "Wake", "describe_store_error"]

DEFAULT_BUSY_TIMEOUT = 5.0
"""Seconds a write waits for a lock held by another process (SQLite's busy timeout)."""
_CORRUPT = ("SQLITE_CORRUPT", "SQLITE_NOTADB")

_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS entities (
        hub TEXT NOT NULL, name TEXT NOT NULL, key TEXT NOT NULL, exists_ INTEGER NOT NULL,
        state TEXT, updated REAL NOT NULL DEFAULT 0, PRIMARY KEY (hub, name, key))""",
    """CREATE TABLE IF NOT EXISTS instances (
        hub TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL, status INTEGER NOT NULL,
        input TEXT, output TEXT, custom_status TEXT, created REAL NOT NULL,
        updated REAL NOT NULL, execution TEXT NOT NULL, parent TEXT, PRIMARY KEY (hub, id))""",
    """CREATE TABLE IF NOT EXISTS history (
        hub TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL, event TEXT NOT NULL,
        PRIMARY KEY (hub, id, seq))""",
    """CREATE TABLE IF NOT EXISTS messages (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, hub TEXT NOT NULL, kind TEXT NOT NULL,
        target TEXT NOT NULL, execution TEXT, visible REAL NOT NULL, body TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS messages_by_target ON messages (hub, kind, target, seq)",
    # What changed since an entity's snapshot (``entities.state``), save by save, in order.
    """CREATE TABLE IF NOT EXISTS entity_deltas (
        hub TEXT NOT NULL, name TEXT NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL,
        delta TEXT NOT NULL, PRIMARY KEY (hub, name, key, seq)) WITHOUT ROWID""",
]
SAFETY_CHECKPOINT_PAGES = 20_000
"""WAL pages after which a commit checkpoints by itself (80 MB; :meth:`DurableStore.checkpoint`
normally runs long before)."""
CHECKPOINT_EVERY = 100
"""Commits after which the host asks for a checkpoint (a few hundred WAL pages)."""
MAX_DELTAS = 64
"""Saves kept as deltas after a snapshot; the next one writes the whole state again (also
once the deltas add up to the snapshot's size), so a load replays little."""
CACHED_ENTITIES = 64
"""Entities whose last saved state is kept in memory, parsed, to diff the next save against."""
ORCHESTRATION, ACTIVITY, ENTITY = "orchestration", "activity", "entity"


def _epoch(moment: datetime) -> float:
    return moment.timestamp()


def _moment(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


@dataclass(frozen=True)
class EntityRecord:
    exists: bool
    state: str | None


@dataclass
class _Saved:
    """An entity's state as stored: its text, its value, and the deltas after the snapshot."""

    text: str
    value: Any
    deltas: int = 0
    delta_size: int = 0
    last_seq: int = 0


@dataclass(frozen=True)
class EntityRow:
    """One entity in a listing."""

    name: str
    key: str
    state: str | None
    updated: datetime


@dataclass(frozen=True)
class ActivityItem:
    """An activity work item waiting to run (or to run again after a restart)."""

    seq: int
    hub: str
    instance_id: str
    execution_id: str | None
    work: ActivityWork


@dataclass(frozen=True)
class Wake:
    """Work that became pending for ``target`` (visible at ``visible``; message ``seq``)."""

    hub: str
    kind: str
    target: str
    visible: datetime
    seq: int = 0


def _error_name(exc: BaseException) -> str:
    return str(getattr(exc, "sqlite_errorname", "") or type(exc).__name__)


def describe_store_error(exc: BaseException, path: Path | None = None,
                         busy_timeout: float | None = None) -> str:
    """What went wrong, in plain words, with SQLite's own code and message after them."""
    name = _error_name(exc)
    where = str(path) if path is not None else "the durable store"
    if name == "SQLITE_FULL" or (name.startswith("SQLITE_IOERR") and "full" in str(exc)):
        plain = f"cannot write {where}: the disk is full"
    elif name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        waited = f" (waited {busy_timeout:g} s)" if busy_timeout is not None else ""
        plain = (f"{where} is locked by another process{waited}; is another host using this "
                 f"data folder?")
    elif name.startswith("SQLITE_READONLY"):
        plain = f"{where} is read-only"
    elif name in _CORRUPT:
        plain = f"{where} is corrupt or not a database"
    else:
        plain = f"cannot use {where}"
    return f"{plain} ({name}: {exc})"


def _aside_name(path: Path, now: datetime) -> Path:
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    count = 1
    while target.exists():
        count += 1
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{count}")
    return target


class DurableStore:
    """The SQLite file; :meth:`open` falls back to memory (with :attr:`problem` set)."""

    def __init__(self, path: Path, default_hub: str = "TestHubName",
                 busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self.problem: str | None = None
        """Why the state is kept in memory only (None: it is saved in ``path``)."""
        self.moved_aside: tuple[Path, str] | None = None
        """Where a corrupt file found at start was moved, and why (None: nothing was)."""
        self.commits = 0
        """Transactions committed since the store opened (the host checkpoints by them)."""
        self._checkpointer: sqlite3.Connection | None = None
        self._saved: dict[tuple[str, str, str], _Saved] = {}
        """The last state saved or loaded per entity (the few most recent), to diff against."""
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False,
                                   timeout=busy_timeout)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            # With WAL, NORMAL syncs at checkpoints, not at every commit: a commit survives a
            # crash of this process (kill -9 included); only a power cut may lose the last ones.
            self._db.execute("PRAGMA synchronous=NORMAL")
            # Checkpoints (and their fsync) are :meth:`checkpoint`'s, on a thread of their own:
            # the automatic one would run inside a commit now and then, and a commit is on the
            # path of every entity signal. This is only the safety net if that thread never runs.
            self._db.execute(f"PRAGMA wal_autocheckpoint={SAFETY_CHECKPOINT_PAGES}")
            self._check()
            self._migrate(default_hub)
        except BaseException:
            self._db.close()
            raise

    def _check(self) -> None:
        """Raise ``sqlite3.DatabaseError`` (SQLITE_CORRUPT) unless ``quick_check`` is ok."""
        rows = [str(r[0]) for r in self._db.execute("PRAGMA quick_check(5)")]
        if rows != ["ok"]:
            error = sqlite3.DatabaseError("; ".join(rows))
            error.sqlite_errorname = "SQLITE_CORRUPT"
            raise error

    @classmethod
    def open(cls, path: Path, default_hub: str = "TestHubName", *,
             busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
             now: datetime | None = None) -> DurableStore:
        """The store at ``path``; a corrupt file is moved aside first (see the module
        docstring); when the file still cannot be used, a store in memory that says why."""
        moved: tuple[Path, str] | None = None
        try:
            try:
                return cls(path, default_hub, busy_timeout)
            except sqlite3.Error as exc:
                if _error_name(exc) not in _CORRUPT:
                    raise
                moved = (cls._move_aside(path, now or datetime.now(UTC)), str(exc))
            store = cls(path, default_hub, busy_timeout)
            store.moved_aside = moved
            return store
        except (OSError, sqlite3.Error) as exc:
            store = cls(Path(":memory:"), default_hub)
            store.path = path
            store.problem = describe_store_error(exc, path, busy_timeout)
            store.moved_aside = moved
            return store

    @staticmethod
    def _move_aside(path: Path, now: datetime) -> Path:
        """Rename the file and its WAL companions out of the way; nothing is deleted."""
        target = _aside_name(path, now)
        for suffix in ("-wal", "-shm", ""):
            companion = path.with_name(path.name + suffix)
            if companion.exists():
                companion.rename(target.with_name(target.name + suffix))
        return target

    def _migrate(self, default_hub: str) -> None:
        columns = [row[1] for row in self._db.execute("PRAGMA table_info(entities)")]
        with self._transaction():
            if columns and "hub" not in columns:  # a store written before task hubs were kept
                self._db.execute("ALTER TABLE entities RENAME TO entities_old")
            for statement in _SCHEMA:
                self._db.execute(statement)
            if columns and "hub" not in columns:
                self._db.execute(
                    "INSERT INTO entities (hub, name, key, exists_, state, updated) "
                    "SELECT ?, name, key, exists_, state, 0 FROM entities_old",
                    (default_hub.lower(),))
                self._db.execute("DROP TABLE entities_old")

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if self._db.in_transaction:  # SQLite rolls back by itself on some errors (disk full)
                self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        self.commits += 1

    def wait_for_locks(self, patient: bool) -> None:
        """Whether a call waits for another connection's lock (up to :attr:`busy_timeout`) or
        fails at once with SQLITE_BUSY (the host's calls on its event loop)."""
        milliseconds = int(self.busy_timeout * 1000) if patient else 0
        self._db.execute(f"PRAGMA busy_timeout = {milliseconds}")

    def checkpoint(self) -> None:
        """Copy what the WAL holds into the database file, without blocking writers (a passive
        checkpoint on a connection of its own). Safe on any one thread besides the store's:
        its fsync waits there."""
        if self.problem is not None or str(self.path) == ":memory:":
            return
        if self._checkpointer is None:
            self._checkpointer = sqlite3.connect(str(self.path), isolation_level=None,
                                                 check_same_thread=False, timeout=0)
        self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.close()
        self._db.close()

    # -- entities ------------------------------------------------------------------------------
    def load_entity(self, hub: str, name: str, key: str) -> EntityRecord:
        """The entity's state: its snapshot with the deltas saved after it replayed."""
        ident = (hub.lower(), name.lower(), key)
        saved = self._saved.get(ident)
        if saved is not None:
            return EntityRecord(True, saved.text)
        row = self._db.execute(
            "SELECT exists_, state FROM entities WHERE hub = ? AND name = ? AND key = ?",
            ident).fetchone()
        if row is None:
            return EntityRecord(False, None)
        exists, text = bool(row[0]), row[1]
        deltas = self._db.execute(
            "SELECT seq, delta FROM entity_deltas WHERE hub = ? AND name = ? AND key = ? "
            "ORDER BY seq", ident).fetchall()
        if deltas:
            text = encode_state(replay_state(decode_state(text), [d for _, d in deltas]))
        if exists and text is not None:
            self._remember(ident, _Saved(text, decode_state(text), len(deltas),
                                         sum(len(d) for _, d in deltas),
                                         deltas[-1][0] if deltas else 0))
        return EntityRecord(exists, text)

    def take_entity_batch(self, hub: str, scheduler_id: str, name: str, key: str,
                          limit: int) -> tuple[list[tuple[int, str]], EntityRecord]:
        """The queued requests of one entity (at most ``limit``) and its state, in one call."""
        return self.take_entity_requests(hub, scheduler_id, limit), self.load_entity(hub, name,
                                                                                     key)

    def _remember(self, ident: tuple[str, str, str], saved: _Saved) -> None:
        self._saved.pop(ident, None)
        if len(self._saved) >= CACHED_ENTITIES:
            self._saved.pop(next(iter(self._saved)))
        self._saved[ident] = saved

    def list_entities(self, hub: str, name: str | None, *, after: tuple[str, str] | None,
                      limit: int, since: datetime | None, until: datetime | None
                      ) -> list[EntityRow]:
        """Existing entities in (name, key) order, after ``after``, at most ``limit``."""
        sql = ("SELECT name, key, state, updated, EXISTS (SELECT 1 FROM entity_deltas d WHERE "
               "d.hub = e.hub AND d.name = e.name AND d.key = e.key) FROM entities e "
               "WHERE hub = ? AND exists_ = 1")
        args: list[Any] = [hub.lower()]
        if name:
            sql += " AND name = ?"
            args.append(name.lower())
        if after is not None:
            sql += " AND (name > ? OR (name = ? AND key > ?))"
            args += [after[0], after[0], after[1]]
        sql += _between("updated", since, until, args)
        sql += " ORDER BY name, key LIMIT ?"
        args.append(limit)
        rows = self._db.execute(sql, args).fetchall()
        return [EntityRow(r[0], r[1], self.load_entity(hub, r[0], r[1]).state if r[4] else r[2],
                          _moment(r[3])) for r in rows]

    def queue_entity_requests(self, requests: Sequence[tuple[str, str, str]],
                              now: datetime) -> list[Wake]:
        """(hub, scheduler id, request) each, in order, in one transaction."""
        with self._transaction():
            return [self._insert(hub, ENTITY, scheduler_id, None, now, request)
                    for hub, scheduler_id, request in requests]

    def take_entity_requests(self, hub: str, scheduler_id: str,
                             limit: int) -> list[tuple[int, str]]:
        return [(r[0], r[1]) for r in self._db.execute(
            "SELECT seq, body FROM messages WHERE hub = ? AND kind = ? AND target = ? "
            "ORDER BY seq LIMIT ?", (hub.lower(), ENTITY, scheduler_id, limit))]

    def commit_entity_batch(self, hub: str, name: str, key: str, record: EntityRecord | None,
                            consumed: Sequence[int], responses: Iterable[Notify],
                            now: datetime) -> list[Wake]:
        """State (None: unchanged), consumed requests and responses to callers, atomically."""
        ident = (hub.lower(), name.lower(), key)
        try:
            with self._transaction():
                saved = self._save_entity(ident, record, now) if record is not None else None
                self._delete(consumed)
                wakes = [self._notify(hub, n, now) for n in responses]
        except BaseException:
            self._saved.pop(ident, None)  # what the file holds is read again next time
            raise
        if record is not None:
            if saved is None:
                self._saved.pop(ident, None)
            else:
                self._remember(ident, saved)
        return wakes

    def _save_entity(self, ident: tuple[str, str, str], record: EntityRecord,
                     now: datetime) -> _Saved | None:
        """Write what changed since the last save: a delta when it is small, else the whole
        state (a new snapshot). Returns what is then stored (None: nothing, or not known)."""
        if not record.exists or record.state is None:
            self._db.execute("DELETE FROM entity_deltas WHERE hub = ? AND name = ? AND key = ?",
                             ident)
            if record.exists:
                self._write_snapshot(ident, None, now)
            else:
                self._db.execute("DELETE FROM entities WHERE hub = ? AND name = ? AND key = ?",
                                 ident)
            return None
        text = record.state
        before = self._saved.get(ident)
        if before is not None and before.text == text:
            self._db.execute("UPDATE entities SET updated = ? WHERE hub = ? AND name = ? AND "
                             "key = ?", (_epoch(now), *ident))
            return before
        value = decode_state(text)
        delta = None
        if before is not None and before.deltas < MAX_DELTAS and value is not None:
            delta = diff_state(before.value, value, old_size=len(before.text))
        if delta is None or before is None or before.delta_size + len(delta) > len(text):
            self._db.execute("DELETE FROM entity_deltas WHERE hub = ? AND name = ? AND key = ?",
                             ident)
            self._write_snapshot(ident, text, now)
            return _Saved(text, value) if value is not None else None
        seq = before.last_seq + 1
        self._db.execute("INSERT INTO entity_deltas (hub, name, key, seq, delta) "
                         "VALUES (?, ?, ?, ?, ?)", (*ident, seq, delta))
        self._db.execute("UPDATE entities SET updated = ? WHERE hub = ? AND name = ? AND key = ?",
                         (_epoch(now), *ident))
        return _Saved(text, value, before.deltas + 1, before.delta_size + len(delta), seq)

    def _write_snapshot(self, ident: tuple[str, str, str], text: str | None,
                        now: datetime) -> None:
        self._db.execute(
            "INSERT INTO entities (hub, name, key, exists_, state, updated) "
            "VALUES (?, ?, ?, 1, ?, ?) ON CONFLICT (hub, name, key) DO UPDATE SET "
            "exists_ = 1, state = excluded.state, updated = excluded.updated",
            (*ident, text, _epoch(now)))

    # -- orchestration instances -----------------------------------------------------------
    def load_instance(self, hub: str, instance_id: str) -> InstanceRecord | None:
        row = self._db.execute(
            "SELECT hub, id, name, status, input, output, custom_status, created, updated, "
            "execution, parent FROM instances WHERE hub = ? AND id = ?",
            (hub.lower(), instance_id)).fetchone()
        return None if row is None else _record(row)

    def list_instances(self, hub: str, *, after: str | None, limit: int,
                       since: datetime | None, until: datetime | None,
                       statuses: Sequence[OrchestrationStatus], prefix: str | None
                       ) -> list[InstanceRecord]:
        sql, args = self._filter(hub, since, until, statuses, prefix)
        if after is not None:
            sql += " AND id > ?"
            args.append(after)
        sql += " ORDER BY id LIMIT ?"
        args.append(limit)
        return [_record(r) for r in self._db.execute(
            "SELECT hub, id, name, status, input, output, custom_status, created, updated, "
            "execution, parent FROM instances WHERE " + sql, args)]

    @staticmethod
    def _filter(hub: str, since: datetime | None, until: datetime | None,
                statuses: Sequence[OrchestrationStatus], prefix: str | None
                ) -> tuple[str, list[Any]]:
        args: list[Any] = [hub.lower()]
        sql = "hub = ?" + _between("created", since, until, args)
        if statuses:
            sql += f" AND status IN ({', '.join('?' * len(statuses))})"
            args += [int(s) for s in statuses]
        if prefix:
            sql += " AND substr(id, 1, ?) = ?"
            args += [len(prefix), prefix]
        return sql, args

    def load_history(self, hub: str, instance_id: str) -> list[HistoryEvent]:
        return [HistoryEvent.decode(r[0]) for r in self._db.execute(
            "SELECT event FROM history WHERE hub = ? AND id = ? ORDER BY seq",
            (hub.lower(), instance_id))]

    def start_instance(self, hub: str, start: StartInstance, execution_id: str,
                       now: datetime) -> Wake:
        """Create or replace an instance (Pending) and queue its ExecutionStarted."""
        with self._transaction():
            return self._start(hub, start, execution_id, now)

    def _start(self, hub: str, start: StartInstance, execution_id: str, now: datetime) -> Wake:
        key = (hub.lower(), start.instance_id)
        self._db.execute("DELETE FROM history WHERE hub = ? AND id = ?", key)
        self._db.execute("DELETE FROM messages WHERE hub = ? AND kind IN (?, ?) AND target = ?",
                         (key[0], ORCHESTRATION, ACTIVITY, key[1]))
        parent = json.dumps(dict(start.parent)) if start.parent else None
        self._db.execute(
            "INSERT INTO instances (hub, id, name, status, input, output, custom_status, "
            "created, updated, execution, parent) VALUES (?, ?, ?, ?, ?, NULL, NULL, ?, ?, ?, ?) "
            "ON CONFLICT (hub, id) DO UPDATE SET name = excluded.name, status = excluded.status, "
            "input = excluded.input, output = NULL, custom_status = NULL, "
            "created = excluded.created, updated = excluded.updated, "
            "execution = excluded.execution, parent = excluded.parent",
            (*key, start.name, int(OrchestrationStatus.PENDING), start.input, _epoch(now),
             _epoch(now), execution_id, parent))
        started = HistoryEvent(kind=EventType.EXECUTION_STARTED, timestamp=now, name=start.name,
                               input=start.input, instance_id=start.instance_id,
                               execution_id=execution_id, parent=_parent_json(start.parent))
        return self._notify(hub, Notify(start.instance_id, started), now, execution_id)

    def queue_message(self, hub: str, instance_id: str, event: HistoryEvent,
                      now: datetime) -> Wake:
        """A client's event, termination, suspension or resumption for any execution."""
        with self._transaction():
            return self._notify(hub, Notify(instance_id, event), now)

    def take_messages(self, hub: str, instance_id: str, now: datetime,
                      limit: int = 100) -> list[tuple[int, str | None, HistoryEvent]]:
        """Visible messages of one instance, oldest first: (seq, execution id, event)."""
        return [(r[0], r[1], HistoryEvent.decode(r[2])) for r in self._db.execute(
            "SELECT seq, execution, body FROM messages WHERE hub = ? AND kind = ? AND "
            "target = ? AND visible <= ? ORDER BY seq LIMIT ?",
            (hub.lower(), ORCHESTRATION, instance_id, _epoch(now), limit))]

    def drop_messages(self, consumed: Sequence[int]) -> None:
        with self._transaction():
            self._delete(consumed)

    def commit_episode(self, hub: str, record: InstanceRecord, consumed: Sequence[int],
                       decision: Decision, now: datetime, new_ids: Iterator[str]) -> list[Wake]:
        """Everything one episode did, atomically; returns the work it made pending."""
        key = (hub.lower(), record.instance_id)
        with self._transaction():
            self._delete(consumed)
            execution = current = record.execution_id
            wakes: list[Wake] = []
            if decision.continue_as_new is not None:
                self._db.execute("DELETE FROM history WHERE hub = ? AND id = ?", key)
                current = next(new_ids)
                started = HistoryEvent(kind=EventType.EXECUTION_STARTED, timestamp=now,
                                       name=record.name, input=decision.continue_as_new,
                                       instance_id=record.instance_id, execution_id=current,
                                       parent=_parent_json(record.parent))
                wakes.append(self._notify(hub, Notify(record.instance_id, started), now,
                                          current))
            else:
                last = self._db.execute("SELECT COALESCE(MAX(seq), -1) FROM history WHERE "
                                        "hub = ? AND id = ?", key).fetchone()[0]
                self._db.executemany(
                    "INSERT INTO history (hub, id, seq, event) VALUES (?, ?, ?, ?)",
                    [(*key, last + 1 + n, e.encode()) for n, e in enumerate(decision.events)])
            self._db.execute(
                "UPDATE instances SET status = ?, output = ?, custom_status = ?, updated = ?, "
                "execution = ?, input = COALESCE(?, input) WHERE hub = ? AND id = ?",
                (int(decision.status), decision.output, decision.custom_status, _epoch(now),
                 current, decision.continue_as_new, *key))
            for item in decision.outgoing:
                if isinstance(item, ActivityWork):
                    body = json.dumps({"taskId": item.task_id, "name": item.name,
                                       "input": item.input})
                    wakes.append(self._insert(hub, ACTIVITY, record.instance_id, execution,
                                              now, body))
                elif isinstance(item, Notify):  # the work of this execution answers this one
                    own = execution if item.instance_id == record.instance_id else None
                    wakes.append(self._notify(hub, item, now, item.execution_id or own))
                elif isinstance(item, StartInstance):
                    wakes.append(self._start(hub, item, next(new_ids), now))
                elif isinstance(item, EntityRequest):
                    wakes.append(self._insert(hub, ENTITY, item.scheduler_id, None, now,
                                              item.request))
            return wakes

    def take_activities(self, hub: str | None = None,
                        seqs: Sequence[int] | None = None) -> list[ActivityItem]:
        sql = "SELECT seq, hub, target, execution, body FROM messages WHERE kind = ?"
        args: list[Any] = [ACTIVITY]
        if hub is not None:
            sql += " AND hub = ?"
            args.append(hub.lower())
        if seqs is not None:
            sql += f" AND seq IN ({', '.join('?' * len(seqs))})"
            args += list(seqs)
        items = []
        for seq, row_hub, target, execution, body in self._db.execute(sql + " ORDER BY seq",
                                                                        args):
            data = json.loads(body)
            items.append(ActivityItem(seq, row_hub, target, execution, ActivityWork(
                int(data["taskId"]), str(data["name"]), data.get("input"))))
        return items

    def complete_activity(self, item: ActivityItem, outcome: HistoryEvent,
                          now: datetime) -> Wake | None:
        """Delete the work item and answer the orchestration, atomically (None: it was gone)."""
        with self._transaction():
            gone = self._db.execute("DELETE FROM messages WHERE seq = ?", (item.seq,)).rowcount
            if not gone:
                return None
            return self._notify(item.hub, Notify(item.instance_id, outcome), now,
                                item.execution_id)

    def pending(self) -> list[Wake]:
        """Every target with queued work, for a host that starts (after a crash, too)."""
        return [Wake(r[0], r[1], r[2], _moment(r[3])) for r in self._db.execute(
            "SELECT hub, kind, target, MIN(visible) FROM messages WHERE kind != ? "
            "GROUP BY hub, kind, target", (ACTIVITY,))]

    def next_visible(self, hub: str, instance_id: str) -> datetime | None:
        row = self._db.execute("SELECT MIN(visible) FROM messages WHERE hub = ? AND kind = ? "
                               "AND target = ?", (hub.lower(), ORCHESTRATION, instance_id)
                               ).fetchone()
        return None if row is None or row[0] is None else _moment(row[0])

    def purge(self, hub: str, instance_ids: Sequence[str]) -> int:
        with self._transaction():
            deleted = 0
            for instance_id in instance_ids:
                key = (hub.lower(), instance_id)
                deleted += self._db.execute("DELETE FROM instances WHERE hub = ? AND id = ?",
                                            key).rowcount
                self._db.execute("DELETE FROM history WHERE hub = ? AND id = ?", key)
                self._db.execute("DELETE FROM messages WHERE hub = ? AND kind IN (?, ?) AND "
                                 "target = ?", (key[0], ORCHESTRATION, ACTIVITY, instance_id))
            return deleted

    def purge_matching(self, hub: str, since: datetime, until: datetime,
                       statuses: Sequence[OrchestrationStatus]) -> int:
        sql, args = self._filter(hub, since, until, statuses, None)
        ids = [r[0] for r in self._db.execute("SELECT id FROM instances WHERE " + sql, args)]
        return self.purge(hub, ids) if ids else 0

    # -- messages ------------------------------------------------------------------------------
    def _insert(self, hub: str, kind: str, target: str, execution: str | None,
                visible: datetime, body: str) -> Wake:
        cursor = self._db.execute(
            "INSERT INTO messages (hub, kind, target, execution, visible, body) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (hub.lower(), kind, target, execution, _epoch(visible), body))
        return Wake(hub.lower(), kind, target, visible, cursor.lastrowid or 0)

    def _notify(self, hub: str, notify: Notify, now: datetime,
                execution: str | None = None) -> Wake:
        execution = notify.execution_id or execution
        return self._insert(hub, ORCHESTRATION, notify.instance_id, execution,
                            notify.visible_at or now, notify.event.encode())

    def _delete(self, seqs: Sequence[int]) -> None:
        self._db.executemany("DELETE FROM messages WHERE seq = ?", [(s,) for s in seqs])


def _between(column: str, since: datetime | None, until: datetime | None,
             args: list[Any]) -> str:
    """`` AND column >= ? AND column <= ?`` for the bounds given (appended to ``args``)."""
    sql = ""
    for bound, operator in ((since, ">="), (until, "<=")):
        if bound is not None:
            sql += f" AND {column} {operator} ?"
            args.append(_epoch(bound))
    return sql


def _parent_json(parent: Any) -> dict[str, Any] | None:
    """``ParentInstance`` as DTFx writes it into ExecutionStarted."""
    if not parent:
        return None
    return {"Name": parent.get("name"), "Version": "", "TaskScheduleId": parent.get("task_id"),
            "OrchestrationInstance": {"InstanceId": parent.get("instance_id"),
                                      "ExecutionId": parent.get("execution_id")}}


def _record(row: Sequence[Any]) -> InstanceRecord:
    return InstanceRecord(hub=row[0], instance_id=row[1], name=row[2],
                          status=OrchestrationStatus(row[3]), input=row[4], output=row[5],
                          custom_status=row[6], created=_moment(row[7]), updated=_moment(row[8]),
                          execution_id=row[9], parent=json.loads(row[10]) if row[10] else None)
