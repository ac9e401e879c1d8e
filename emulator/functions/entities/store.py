"""Entity state in SQLite, so history survives a restart (one row per entity instance)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

__all__ = ["EntityRecord", "EntityStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entities (
    name TEXT NOT NULL,
    key TEXT NOT NULL,
    exists_ INTEGER NOT NULL,
    state TEXT,
    PRIMARY KEY (name, key)
)
"""


@dataclass(frozen=True)
class EntityRecord:
    exists: bool
    state: str | None


class EntityStore:
    """Committed entity state; names are lower-cased, keys kept as given (EXT EntityId).

    Every method may raise ``sqlite3.Error`` (disk full, read-only file, locked database); the
    caller reports it and keeps running. :meth:`open` never fails: when ``path`` cannot be used
    it falls back to memory and says why in :attr:`problem`.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problem: str | None = None
        """Why the state is kept in memory only (None: it is saved in ``path``)."""
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        # With WAL, NORMAL syncs at checkpoints, not at every commit: a commit survives a crash
        # of this process, only a power cut may lose the last ones, which is fine for a local
        # emulator. One save per entity batch (benchmarks/RESULTS.md).
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)

    @classmethod
    def open(cls, path: Path) -> EntityStore:
        """The store in ``path``; in memory (with :attr:`problem` set) when it cannot be opened."""
        try:
            return cls(path)
        except (OSError, sqlite3.Error) as exc:
            store = cls(Path(":memory:"))
            store.path = path
            store.problem = f"{type(exc).__name__}: {exc}"
            return store

    def load(self, name: str, key: str) -> EntityRecord:
        row = self._db.execute("SELECT exists_, state FROM entities WHERE name = ? AND key = ?",
                               (name.lower(), key)).fetchone()
        return EntityRecord(False, None) if row is None else EntityRecord(bool(row[0]), row[1])

    def save(self, name: str, key: str, record: EntityRecord) -> None:
        """Commit one batch's outcome atomically; a deleted entity's row is removed."""
        with self._db:
            if record.exists:
                self._db.execute(
                    "INSERT INTO entities (name, key, exists_, state) VALUES (?, ?, 1, ?) "
                    "ON CONFLICT (name, key) DO UPDATE SET exists_ = 1, state = excluded.state",
                    (name.lower(), key, record.state))
            else:
                self._db.execute("DELETE FROM entities WHERE name = ? AND key = ?",
                                 (name.lower(), key))

    def close(self) -> None:
        self._db.close()
