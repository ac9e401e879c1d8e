"""The warm interpreter the tests start the stack's commands from behaves as ``python -m``.

Each case runs a probe module both ways, forked warm and in a new interpreter, and expects the
same: argv, working directory, environment, stdout and stderr on one pipe, non-daemon threads
joined and atexit handlers run before the exit code, Ctrl-C and ``kill -9`` as exit codes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import warm_python
from tests.support.processes import read_until
from tests.support.timeouts import TIMEOUT

PROBE = textwrap.dedent("""
    import atexit, os, signal, sys, threading, time

    print("name", __name__, "argv", sys.argv[1:], "cwd", os.getcwd())
    print("setting", os.environ.get("PROBE_SETTING"))
    print("sigint", signal.getsignal(signal.SIGINT) is signal.SIG_IGN)
    print("to stderr", file=sys.stderr)
    if sys.argv[1] == "exit":
        done = threading.Event()
        def finish():
            done.wait()
            time.sleep(0.05)  # ends after the main module does: only a join waits for it
            print("thread done")
        threading.Thread(target=finish).start()
        atexit.register(print, "atexit ran")
        print("main done")
        done.set()
        sys.exit(int(sys.argv[2]))
    print("waiting", flush=True)
    signal.pause()
""")


@pytest.fixture(params=["warm", "fresh"])
def probe_dir(request: pytest.FixtureRequest, tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("TEST_FRESH_INTERPRETERS", "1" if request.param == "fresh" else "")
    (tmp_path / "probe.py").write_text(PROBE, encoding="utf-8")
    with sigint(signal.default_int_handler):  # as from a terminal, whatever shell runs the tests
        yield tmp_path


@contextlib.contextmanager
def sigint(handler: Any) -> Iterator[None]:
    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


async def _output(process: warm_python.WarmProcess | asyncio.subprocess.Process) -> list[str]:
    assert process.stdout is not None
    raw = await asyncio.wait_for(process.stdout.read(), TIMEOUT)
    return raw.decode().splitlines()


async def test_probe_sees_its_argv_cwd_and_environment_and_exits_in_order(probe_dir: Path
                                                                          ) -> None:
    env = {**os.environ, "PROBE_SETTING": "from the test", "PYTHONUNBUFFERED": "1"}
    process = await warm_python.python_module("probe", "exit", "3", env=env, cwd=probe_dir)
    lines = await _output(process)
    assert await asyncio.wait_for(process.wait(), TIMEOUT) == 3
    assert process.returncode == 3
    assert lines == [
        f"name __main__ argv ['exit', '3'] cwd {probe_dir}", "setting from the test",
        "sigint False", "to stderr", "main done", "thread done", "atexit ran",
    ]


async def test_probe_buffers_stdout_as_a_new_interpreter_does(probe_dir: Path) -> None:
    """Without PYTHONUNBUFFERED stdout is block-buffered and stderr is not: stderr comes first."""
    env = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    process = await warm_python.python_module("probe", "exit", "0", env=env, cwd=probe_dir)
    lines = await _output(process)
    assert await asyncio.wait_for(process.wait(), TIMEOUT) == 0
    assert lines[0] == "to stderr"
    assert lines[1:4] == [f"name __main__ argv ['exit', '0'] cwd {probe_dir}", "setting None",
                          "sigint False"]


def test_run_module_keeps_stdout_and_stderr_apart(probe_dir: Path) -> None:
    """The synchronous form, as ``subprocess.run(capture_output=True)`` gives them."""
    result = warm_python.run_module(sys.executable, (), "probe", "exit", "4", cwd=probe_dir,
                                    timeout=TIMEOUT)
    assert result.returncode == 4
    assert result.stderr == "to stderr\n"
    assert result.stdout.splitlines() == [
        f"name __main__ argv ['exit', '4'] cwd {probe_dir}", "setting None", "sigint False",
        "main done",
        "thread done", "atexit ran",
    ]


async def test_probe_started_from_a_background_shell_ignores_sigint(probe_dir: Path) -> None:
    """A background job (``cmd &``) ignores SIGINT, and so does every process it starts."""
    with sigint(signal.SIG_IGN):
        process = await warm_python.python_module("probe", "exit", "0", cwd=probe_dir)
    lines = await _output(process)
    assert await asyncio.wait_for(process.wait(), TIMEOUT) == 0
    assert "sigint True" in lines


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, -signal.SIGINT),
                                              (signal.SIGTERM, -signal.SIGTERM),
                                              (signal.SIGKILL, -signal.SIGKILL)])
async def test_probe_ends_by_signal_with_the_same_exit_code(probe_dir: Path, signum: int,
                                                            code: int) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = await warm_python.python_module("probe", "wait", env=env, cwd=probe_dir)
    await read_until(process, "^waiting")  # type: ignore[arg-type]
    process.send_signal(signum)
    assert await asyncio.wait_for(process.wait(), TIMEOUT) == code


async def test_children_die_with_the_warm_interpreter(tmp_path: Path) -> None:
    """When the test process lets go of it, the warm interpreter ends every child it forked."""
    (tmp_path / "probe.py").write_text(PROBE, encoding="utf-8")
    interpreter = warm_python._WarmInterpreter(sys.executable, ())
    output_read, output_write = os.pipe()
    status_read, status_write = os.pipe()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    pid = interpreter.spawn(["probe", "wait"], env, tmp_path, output_write, output_write,
                            status_write)
    os.close(output_write)
    os.close(status_write)
    with os.fdopen(output_read, "rb") as output, os.fdopen(status_read, "rb") as status:
        while not output.readline().startswith(b"waiting"):
            pass
        await asyncio.to_thread(interpreter.close)
        assert status.read() == str(-signal.SIGKILL).encode()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
