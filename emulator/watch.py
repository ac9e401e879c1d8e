"""Noticing that files changed, by polling their modification times (no dependency, and cheap
for an app's few hundred files): the host restarts, the service reloads its upstream rules."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterable, Iterator
from pathlib import Path

__all__ = ["APP_PATTERNS", "SLICE", "changed", "file_stamps", "stamps", "start_watching",
           "take_gently", "watch"]

APP_PATTERNS = (".py", "host.json", "local.settings.json", "local.settings.json.example")
_SKIPPED_DIRS = {".git", ".venv", "node_modules", "__pycache__", ".emulator", ".hypothesis",
                 ".pytest_cache", ".ruff_cache", ".mypy_cache", ".stamps", "test-artifacts"}

Snapshot = dict[str, int]
SLICE = 64
"""Files stat-ed in one turn of the loop (a few hundred microseconds)."""


def _files(root: Path, suffixes: tuple[str, ...], skip: frozenset[Path]) -> Iterator[str]:
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in _SKIPPED_DIRS and not d.startswith(".venv")
                   and Path(folder, d) not in skip]
        for name in names:
            if name.endswith(suffixes):
                yield os.path.join(folder, name)


def stamps(root: Path, suffixes: tuple[str, ...] = APP_PATTERNS,
           skip: frozenset[Path] = frozenset()) -> Iterator[tuple[str, int]]:
    """Each file under ``root`` that ends with one of ``suffixes``, with its modification time."""
    return file_stamps(_files(root, suffixes, skip))


def file_stamps(paths: Iterable[str]) -> Iterator[tuple[str, int]]:
    """Each of ``paths`` that exists, with its modification time."""
    for path in paths:
        try:
            yield path, os.stat(path).st_mtime_ns
        except OSError:
            continue


def changed(before: Snapshot, after: Snapshot) -> list[str]:
    """Files added, removed or modified between two snapshots, sorted."""
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))


Stamps = Callable[[], Iterable[tuple[str, int]]]


def start_watching(take: Stamps, on_change: Callable[[list[str]], Awaitable[None]],
                   *, interval: float = 1.0) -> asyncio.Task[None]:
    """Take the first snapshot now (a change made right after this call is seen), then watch
    in a task; cancel the task to stop."""
    return asyncio.ensure_future(watch(take, on_change, dict(take()), interval=interval))


async def take_gently(take: Stamps) -> Snapshot:
    """A snapshot taken on the loop, :data:`SLICE` files at a time. Not in a thread: each
    ``stat`` there gives up the GIL and waits up to the switch interval (5 ms) to get it back
    from a busy loop, so a walk of 400 files took a second and made the loop give up the GIL
    every 5 ms all that time (benchmarks/RESULTS.md, "After final run A")."""
    times: Snapshot = {}
    for count, (path, stamp) in enumerate(take(), 1):
        times[path] = stamp
        if count % SLICE == 0:
            await asyncio.sleep(0)
    return times


async def watch(take: Stamps, on_change: Callable[[list[str]], Awaitable[None]],
                last: Snapshot, *, interval: float = 1.0) -> None:
    """Call ``on_change`` with the changed files whenever a snapshot differs from the last one;
    a change is acted on once the files have been quiet for one interval (an editor's save
    often writes twice)."""
    pending: list[str] = []
    while True:
        await asyncio.sleep(interval)
        now = await take_gently(take)
        differences = changed(last, now)
        last = now
        if differences:
            pending = sorted(set(pending) | set(differences))
        elif pending:
            files, pending = pending, []
            await on_change(files)
