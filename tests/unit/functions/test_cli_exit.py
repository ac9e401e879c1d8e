"""The command lines exit after an unexpected error even while a sync function is stuck in a
worker thread (the interpreter would wait for that thread at exit, for ever)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import emulator.__main__ as stack_main
import emulator.functions.__main__ as host_main
from emulator.functions import invoke

ROOT = Path(__file__).resolve().parents[3]


class _Exited(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@pytest.fixture
def stuck_function(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A sync function call held in a worker thread; the process exit observed, not taken."""
    started, release = threading.Event(), threading.Event()

    def call() -> None:
        started.set()
        release.wait(30)

    thread = threading.Thread(target=invoke._THREAD_CALLS.run, args=(call,), daemon=True)
    thread.start()
    assert started.wait(10)

    def exit_now(code: int) -> None:
        raise _Exited(code)

    monkeypatch.setattr(invoke.os, "_exit", exit_now)
    monkeypatch.setattr(invoke.logging, "shutdown", lambda: None)
    try:
        yield
    finally:
        release.set()
        thread.join(10)


async def _unexpected(*args: Any) -> None:
    raise RuntimeError("not an error the command line knows")


@pytest.mark.usefixtures("stuck_function")
def test_the_host_exits_after_an_unexpected_error(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    monkeypatch.setattr(host_main, "_serve", _unexpected)
    monkeypatch.setattr(host_main, "configure_logging", lambda level: None)
    with pytest.raises(_Exited) as exited:
        host_main.main(["--app-dir", str(tmp_path), "--port", "0"])
    assert exited.value.code == 1


@pytest.mark.usefixtures("stuck_function")
def test_the_stack_exits_after_an_unexpected_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stack_main, "_run", _unexpected)
    monkeypatch.setattr(stack_main, "configure_logging", lambda level: None)
    with pytest.raises(_Exited) as exited:
        stack_main.main(["--app-dir", str(ROOT), "--no-reload"])
    assert exited.value.code == 1


def test_without_a_stuck_function_the_unexpected_error_is_raised(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(host_main, "_serve", _unexpected)
    monkeypatch.setattr(host_main, "configure_logging", lambda level: None)
    with pytest.raises(RuntimeError, match="not an error"):
        host_main.main(["--app-dir", str(tmp_path), "--port", "0"])
