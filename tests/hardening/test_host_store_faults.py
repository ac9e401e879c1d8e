"""Faults of the durable store end cleanly: a corrupt file, a lock held by another process, a
full disk.

Before this, a corrupt ``entities.sqlite3`` stayed in place (state kept in memory only, or every
call failing on the broken page), a lock held elsewhere was waited on for SQLite's default with
no plain word about it, and a full disk logged an ERROR for every write it refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

from emulator.functions.durable import DURABLE
from tests.hardening import host_support
from tests.hardening.host_support import HostFactory, InProcessHost
from tests.support.timeouts import TIMEOUT

make_test_host = host_support.make_test_host  # fixtures
log_capture = host_support.log_capture


async def _put(http: aiohttp.ClientSession, host: InProcessHost, key: str, value: str) -> None:
    """Set entity Box/<key> to the string ``value`` through the durable API."""
    # As JSON text of JSON (the SDK decodes an HTTP signal's input twice; docs/durable.md).
    async with http.post(f"{host.durable_url}/entities/Box/{key}?op=set",
                         json=json.dumps(value)) as response:
        assert response.status == 202, await response.text()
    await host.app[DURABLE].wait_idle(TIMEOUT)


async def _get(http: aiohttp.ClientSession, host: InProcessHost, key: str) -> Any:
    async with http.get(f"{host.durable_url}/entities/Box/{key}") as response:
        return await response.json() if response.status == 200 else response.status


def _stored(path: Path, key: str) -> Any:
    """What the file itself holds for Box/<key>, read by a connection of the test's own."""
    db = sqlite3.connect(path)
    try:
        row = db.execute("SELECT state FROM entities WHERE name = 'box' AND key = ?",
                         (key,)).fetchone()
    finally:
        db.close()
    return row[0] if row else None


def _errors(capture: Any, fragment: str) -> list[logging.LogRecord]:
    return [r for r in capture.at_least(logging.ERROR) if fragment in r.getMessage()]


# -- a corrupt file ---------------------------------------------------------------------------


def _write_garbage(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not an SQLite database, just bytes\n" * 200)


def _corrupt_a_page(path: Path) -> None:
    """A real store whose third page (a table's b-tree) is overwritten: SQLite opens it, and
    only reading that table fails."""
    path.parent.mkdir(parents=True)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("CREATE TABLE entities (hub TEXT, name TEXT, key TEXT, exists_ INTEGER, "
               "state TEXT, updated REAL, PRIMARY KEY (hub, name, key))")
    for n in range(200):
        db.execute("INSERT INTO entities VALUES ('testhubname', 'box', ?, 1, ?, 0)",
                   (f"k{n}", '"' + "x" * 300 + '"'))
    db.close()
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    data[2 * page:2 * page + 200] = b"\xab" * 200
    path.write_bytes(bytes(data))


async def _check_moved_aside_and_fresh(make_test_host: HostFactory, http: aiohttp.ClientSession,
                                       capture: Any, data: Path) -> None:
    store = data / "entities.sqlite3"
    host = await make_test_host("hostile", data_dir=data)
    moved = sorted(data.glob("entities.sqlite3.corrupt-*"))
    assert len(moved) == 1 and moved[0].name.endswith("Z"), sorted(data.iterdir())
    errors = _errors(capture, "could not be read")
    assert len(errors) == 1 and str(moved[0]) in errors[0].getMessage()
    await _put(http, host, "k1", "fresh")
    assert await _get(http, host, "k1") == "fresh"
    assert _stored(store, "k1") == '"fresh"'  # saved in the new file, not only in memory


async def test_host_moves_a_file_that_is_not_a_database_aside(
    make_test_host: HostFactory, http: aiohttp.ClientSession, log_capture: Any, tmp_path: Path,
) -> None:
    """Garbage where the store should be: moved aside with a UTC time, reported once at
    ERROR, and the host goes on with a fresh store that saves."""
    _write_garbage(tmp_path / "data" / "entities.sqlite3")
    await _check_moved_aside_and_fresh(make_test_host, http, log_capture, tmp_path / "data")


async def test_host_moves_a_store_with_a_corrupt_page_aside(
    make_test_host: HostFactory, http: aiohttp.ClientSession, log_capture: Any, tmp_path: Path,
) -> None:
    """A store SQLite can open but whose pages are broken is found at start (quick_check),
    not by every later call failing."""
    _corrupt_a_page(tmp_path / "data" / "entities.sqlite3")
    await _check_moved_aside_and_fresh(make_test_host, http, log_capture, tmp_path / "data")


# -- a lock held by another process ------------------------------------------------------------

LOCKER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
db.execute("ROLLBACK")
"""


@contextlib.asynccontextmanager
async def _locked(path: Path) -> AsyncIterator[None]:
    """Another process holds the store's write lock while the block runs."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", LOCKER, str(path), stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE)
    try:
        assert process.stdout is not None and process.stdin is not None
        assert await asyncio.wait_for(process.stdout.readline(), TIMEOUT) == b"locked\n"
        yield
        process.stdin.write(b"done\n")
        await process.stdin.drain()
        await asyncio.wait_for(process.wait(), TIMEOUT)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_host_waits_briefly_for_a_lock_then_says_so(
    make_test_host: HostFactory, http: aiohttp.ClientSession, log_capture: Any, tmp_path: Path,
) -> None:
    """While another process holds the lock: reads still work, a write waits the busy
    timeout and then fails with a plain sentence (503 for the API, ERROR once in the log);
    once the lock is gone, writes work again. Nothing crashes."""
    data = tmp_path / "data"
    host = await make_test_host("hostile", data_dir=data, store_busy_timeout=0.3)
    await _put(http, host, "k1", "before")
    async with _locked(data / "entities.sqlite3"):
        assert await _get(http, host, "k1") == "before"
        for _ in range(2):
            async with http.post(f"{host.durable_url}/orchestrators/any?taskHub=OtherHub",
                                 json={}) as response:
                assert response.status == 503
                body = await response.json()
            assert "locked by another process" in body["ExceptionMessage"]
        await _put(http, host, "k1", "during")  # runs from memory; its commit fails
    locked = [r.getMessage() for r in _errors(log_capture, "locked by another process "
                                                            "(waited 0.3 s)")]
    # Once per kind of step: the API call, queueing the signal, saving the entity.
    assert len(locked) == 3, locked
    assert any(m.startswith("durable API POST") for m in locked)
    info = [r for r in log_capture.records if r.levelno == logging.INFO
            and "locked by another process" in r.getMessage()]
    assert info, "a repeated failure is logged at INFO"
    await _put(http, host, "k2", "after")
    assert await _get(http, host, "k2") == "after"
    assert _stored(data / "entities.sqlite3", "k1") == '"before"'


# -- a full disk ------------------------------------------------------------------------------


async def test_host_disk_full_fails_writes_once_loudly_and_keeps_what_was_stored(
    make_test_host: HostFactory, http: aiohttp.ClientSession, log_capture: Any, tmp_path: Path,
) -> None:
    """SQLite's ``max_page_count`` makes writes fail with SQLITE_FULL as a full disk does: the
    first failure is an ERROR that says the disk is full, the next ones INFO; the state saved
    before is intact in the file, and writes work again once there is room."""
    data = tmp_path / "data"
    host = await make_test_host("hostile", data_dir=data)
    await _put(http, host, "k1", "saved before")
    store = host.app[DURABLE].store
    database: sqlite3.Connection = store._db
    pages = database.execute("PRAGMA page_count").fetchone()[0]
    database.execute(f"PRAGMA max_page_count = {pages}")
    for n in range(4):
        await _put(http, host, f"big{n}", "y" * 20_000)
        await _put(http, host, "k1", "z" * 20_000)
    full = [r.getMessage() for r in _errors(log_capture, "the disk is full")]
    assert 1 <= len(full) <= 2, full  # once per kind of step: queueing, saving
    assert all("database or disk is full" in m for m in full)
    repeats = [r for r in log_capture.records if r.levelno == logging.INFO
               and "the disk is full" in r.getMessage()]
    assert len(repeats) >= 4
    assert _stored(data / "entities.sqlite3", "k1") == '"saved before"'
    database.execute("PRAGMA max_page_count = 1073741823")
    await _put(http, host, "k3", "room again")
    assert _stored(data / "entities.sqlite3", "k3") == '"room again"'
