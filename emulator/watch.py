"""Noticing that files changed, by polling their modification times (no dependency, and cheap
for an app's few hundred files): the host restarts, the service reloads its upstream rules."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

__all__ = ["APP_PATTERNS", "changed", "snapshot", "start_watching", "watch"]

APP_PATTERNS = (".py", "host.json", "local.settings.json", "local.settings.json.example")
_SKIPPED_DIRS = {".git", ".venv", "node_modules", "__pycache__", ".emulator", ".hypothesis",
                 ".pytest_cache", ".ruff_cache", ".mypy_cache", ".stamps", "test-artifacts"}

Snapshot = dict[str, int]


def _files(root: Path, suffixes: tuple[str, ...], skip: frozenset[Path]) -> Iterator[str]:
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in _SKIPPED_DIRS and not d.startswith(".venv")
                   and Path(folder, d) not in skip]
        for name in names:
            if name.endswith(suffixes):
                yield os.path.join(folder, name)


def snapshot(root: Path, suffixes: tuple[str, ...] = APP_PATTERNS,
             skip: frozenset[Path] = frozenset()) -> Snapshot:
    """Modification times of the files under ``root`` that end with one of ``suffixes``."""
    times: Snapshot = {}
    for path in _files(root, suffixes, skip):
        try:
            times[path] = os.stat(path).st_mtime_ns
        except OSError:
            continue
    return times


def changed(before: Snapshot, after: Snapshot) -> list[str]:
    """Files added, removed or modified between two snapshots, sorted."""
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))


def start_watching(take: Callable[[], Snapshot],
                   on_change: Callable[[list[str]], Awaitable[None]],
                   *, interval: float = 1.0) -> asyncio.Task[None]:
    """Take the first snapshot now (a change made right after this call is seen), then watch
    in a task; cancel the task to stop."""
    return asyncio.ensure_future(watch(take, on_change, take(), interval=interval))


async def watch(take: Callable[[], Snapshot], on_change: Callable[[list[str]], Awaitable[None]],
                last: Snapshot, *, interval: float = 1.0) -> None:
    """Call ``on_change`` with the changed files whenever a snapshot differs from the last one;
    a change is acted on once the files have been quiet for one interval (an editor's save
    often writes twice)."""
    loop = asyncio.get_running_loop()
    pending: list[str] = []
    while True:
        await asyncio.sleep(interval)
        now = await loop.run_in_executor(None, take)
        differences = changed(last, now)
        last = now
        if differences:
            pending = sorted(set(pending) | set(differences))
        elif pending:
            files, pending = pending, []
            await on_change(files)
