"""Entity state that cannot be written: a clear error, and the chat goes on.

Two ways the data folder fails: it cannot be opened at all when the host starts (here: its
parent is a regular file), and the disk fills up while the host runs (here: SQLite's own
``max_page_count`` limit, which fails writes with SQLITE_FULL exactly as a full disk does).
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import aiohttp
import pytest

from emulator.functions.durable import DURABLE, DurableRuntime
from tests.hardening.chat_client import ChatClient
from tests.hardening.conftest import StackFactory


def _errors(caplog: pytest.LogCaptureFixture, fragment: str) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.levelno >= logging.ERROR and fragment in r.getMessage()]


async def test_unusable_data_folder_logs_clear_error_and_chat_goes_on(
    make_local_stack: StackFactory, http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture, tmp_path: Path,
) -> None:
    """The host starts anyway, says where and why state is not saved, and people chat."""
    caplog.set_level(logging.INFO)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder's parent should be")
    stack = await make_local_stack(data_dir=blocker / "data")
    errors = _errors(caplog, "entity state cannot be saved in")
    assert errors and str(blocker / "data") in errors[0] and "Not a directory" in errors[0]

    ann = await ChatClient.connect(http, stack.api_url, "ann")
    bob = await ChatClient.connect(http, stack.api_url, "bob")
    await ann.invoke("broadcast", "nothing is saved, and still we talk")
    await bob.wait_for_message("nothing is saved, and still we talk")
    await ann.close()
    await bob.close()


async def test_disk_full_while_running_logs_clear_error_and_chat_goes_on(
    make_local_stack: StackFactory, http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Writes start failing mid-chat: each lost write is logged plainly, messages still flow."""
    caplog.set_level(logging.INFO)
    stack = await make_local_stack()
    ann = await ChatClient.connect(http, stack.api_url, "ann")
    bob = await ChatClient.connect(http, stack.api_url, "bob")
    await ann.invoke("broadcast", "before the disk fills")
    await bob.wait_for_message("before the disk fills")

    assert stack.host_runner is not None
    durable = stack.host_runner.app[DURABLE]
    assert isinstance(durable, DurableRuntime)
    database: sqlite3.Connection = durable.store._db
    pages = database.execute("PRAGMA page_count").fetchone()[0]
    database.execute(f"PRAGMA max_page_count = {pages}")

    texts = [f"message {n} after the disk filled " + "x" * 1500 for n in range(4)]
    for text in texts:
        await ann.invoke("broadcast", text)
    for text in texts:
        await bob.wait_for_message(text)
    await durable.wait_idle(timeout=10)
    errors = _errors(caplog, "cannot read or save its state")
    assert errors, "the failed write was not reported"
    assert "database or disk is full" in errors[0] and "@chatroom@" in errors[0]
    assert not ann.closed.is_set() and not bob.closed.is_set()
    await ann.close()
    await bob.close()
