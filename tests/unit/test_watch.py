"""Polling for changed files: on the loop, a slice at a time, acted on once quiet."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from emulator.watch import SLICE, file_stamps, stamps, take_gently, watch


def _tree(root: Path, count: int) -> None:
    for n in range(count):
        folder = root / f"pkg{n % 3}"
        folder.mkdir(exist_ok=True)
        (folder / f"m{n}.py").write_text("x = 1\n")
    (root / "notes.txt").write_text("not watched")
    (root / "node_modules").mkdir()
    (root / "node_modules" / "skip.py").write_text("")


async def test_a_snapshot_taken_gently_gives_the_loop_turns_and_misses_nothing(
        tmp_path: Path) -> None:
    _tree(tmp_path, SLICE * 3)
    turns = 0

    async def other_work() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    other = asyncio.ensure_future(other_work())
    await asyncio.sleep(0)
    before = turns
    taken = await take_gently(lambda: stamps(tmp_path))
    other.cancel()
    assert turns - before >= 3, "the loop ran other work between slices"
    assert taken == dict(stamps(tmp_path))
    assert len(taken) == SLICE * 3
    assert not any("node_modules" in path or path.endswith(".txt") for path in taken)


def test_file_stamps_leaves_out_a_missing_file(tmp_path: Path) -> None:
    there = tmp_path / "local.settings.json"
    there.write_text("{}")
    assert dict(file_stamps([str(there), str(tmp_path / "gone.json")])) == {
        str(there): there.stat().st_mtime_ns}


async def test_watch_reports_a_changed_file(tmp_path: Path) -> None:
    _tree(tmp_path, 4)
    changes: asyncio.Queue[list[str]] = asyncio.Queue()

    async def on_change(files: list[str]) -> None:
        await changes.put(files)

    task = asyncio.ensure_future(watch(lambda: stamps(tmp_path), on_change,
                                       dict(stamps(tmp_path)), interval=0.05))
    try:
        edited = tmp_path / "pkg1" / "m1.py"
        edited.write_text("x = 2\n")
        os.utime(edited, ns=(1, 1))  # a time unlike the first snapshot's, however fast this is
        assert await asyncio.wait_for(changes.get(), 10) == [str(edited)]
    finally:
        task.cancel()
