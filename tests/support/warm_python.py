"""``python -m <module>`` for the stack's own commands, forked from an interpreter that has
already imported the stack's libraries.

A new interpreter spends about 0.4 s of CPU importing aiohttp, the Functions library and the
emulator before the stack does anything; the suite starts a stack about 150 times per run. Here
one warm interpreter per test process imports them once and forks a child per command. The child
is the command as a user runs it: its own process and pid, the argv, environment and working
directory asked for, stdout and stderr on a pipe, the signal dispositions a new interpreter would
start with (SIGINT raises KeyboardInterrupt unless the test process ignores it, as a background
job does; the stack installs its own handlers either way), the
module run as ``__main__`` by :mod:`runpy`, non-daemon threads and ``atexit`` handlers run at
the end, and the exit code of a process (negative: killed by that signal). Modules whose import
reads settings (the app, ``chat``) are never imported in advance, so each child imports them
under its own environment.

What a fork cannot give: the children of one warm interpreter share its string-hash seed (a new
interpreter draws its own; ``random`` is reseeded in each child), and a module imported in
advance keeps whatever it computed when imported, so :data:`PRELOAD` holds only modules that
read no argv, environment or clock at import (checkov's ``Checkov()`` binds ``sys.argv`` as a
default argument when imported, so its launcher passes argv explicitly).

``TEST_FRESH_INTERPRETERS=1`` starts every command in a new interpreter instead; the tests of the
command-line entry points themselves (signals, exit codes, a background shell) always do.

Run as ``python -m tests.support.warm_python FD MODULE...``: FD is the warm end of a
SOCK_SEQPACKET pair, the modules are those to import before forking. Any interpreter can be warm
(checkov's, for the infra tests), as long as this file imports nothing but the standard library.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import ctypes.util
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path

__all__ = ["PRELOAD", "WarmProcess", "fresh_interpreters", "python_module", "run_module"]

ROOT = Path(__file__).resolve().parents[2]
PRELOAD = (
    "aiohttp.web", "aiohttp.client", "jwt", "msgpack", "azure.functions",
    "azure.durable_functions", "jinja2", "emulator.cli", "emulator.config", "emulator.serve",
    "emulator.stack", "emulator.signalr.app", "emulator.functions.app",
)
"""Imported by the warm interpreter: libraries, and emulator modules that read no settings when
imported (never ``emulator.__main__`` or another module a child runs as ``__main__``)."""
_MESSAGE_LIMIT = 1 << 20
_PR_SET_PDEATHSIG = 1


def fresh_interpreters() -> bool:
    return os.environ.get("TEST_FRESH_INTERPRETERS", "") not in ("", "0")


class WarmProcess:
    """The child, with the part of :class:`asyncio.subprocess.Process` the tests use."""

    def __init__(self, pid: int, stdout: asyncio.StreamReader, status: asyncio.StreamReader
                 ) -> None:
        self.pid = pid
        self.stdout = stdout
        self.returncode: int | None = None
        self._status = asyncio.get_running_loop().create_task(self._read_status(status))

    async def _read_status(self, status: asyncio.StreamReader) -> None:
        text = (await status.read()).decode()
        # No status: the warm interpreter was killed, and its children with it (SIGKILL).
        self.returncode = int(text) if text else -signal.SIGKILL

    async def wait(self) -> int:
        await asyncio.shield(self._status)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


_INHERITED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _ignored_signals() -> list[int]:
    """The signals this process ignores: a process it started would ignore them too."""
    return [int(signum) for signum in _INHERITED if signal.getsignal(signum) == signal.SIG_IGN]


class _WarmInterpreter:
    """The test process's end: starts the warm interpreter on first use, asks it for children."""

    def __init__(self, python: str, preload: tuple[str, ...]) -> None:
        self.python, self.preload = python, preload
        self._lock = threading.Lock()
        self._control: socket.socket | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def spawn(self, argv: list[str], env: Mapping[str, str], cwd: Path, stdout_fd: int,
              stderr_fd: int, status_fd: int) -> int:
        """Fork ``python -m argv...``; its exit code is written to ``status_fd`` at the end."""
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._start()
            assert self._control is not None
            request = json.dumps({"argv": argv, "env": dict(env), "cwd": str(cwd),
                                  "ignored": _ignored_signals()}).encode()
            socket.send_fds(self._control, [request], [stdout_fd, stderr_fd, status_fd])
            reply = self._control.recv(64)
            if not reply:
                raise RuntimeError("the warm interpreter has exited")
            return int(reply)

    def _start(self) -> None:
        if self._control is not None:  # the last warm interpreter died
            self._control.close()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with theirs:
            self._process = subprocess.Popen(
                [self.python, "-m", "tests.support.warm_python", str(theirs.fileno()),
                 *self.preload],
                cwd=ROOT, pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        self._control = ours

    def close(self) -> None:
        """The warm interpreter ends its children (SIGKILL) and exits when the socket closes."""
        if self._control is not None:
            self._control.close()
        if self._process is not None:
            self._process.wait()


_interpreters: dict[tuple[str, tuple[str, ...]], _WarmInterpreter] = {}
_interpreters_lock = threading.Lock()


def _interpreter(python: str, preload: tuple[str, ...]) -> _WarmInterpreter:
    with _interpreters_lock:
        if (python, preload) not in _interpreters:
            interpreter = _interpreters[python, preload] = _WarmInterpreter(python, preload)
            atexit.register(interpreter.close)
        return _interpreters[python, preload]


def _spawn(python: str, preload: tuple[str, ...], argv: list[str], env: Mapping[str, str],
           cwd: Path, *, merge_stderr: bool) -> tuple[int, list[int]]:
    """A warm child; returns its pid and the read ends of stdout (, stderr) and status."""
    pipes = [os.pipe() for _ in range(2 if merge_stderr else 3)]
    writes = [write for _, write in pipes]
    if merge_stderr:
        writes.insert(1, writes[0])
    try:
        pid = _interpreter(python, preload).spawn(argv, env, cwd, *writes)
    except BaseException:
        for read, _ in pipes:
            os.close(read)
        raise
    finally:
        for _, write in pipes:
            os.close(write)
    return pid, [read for read, _ in pipes]


async def python_module(module: str, *args: str, env: Mapping[str, str] | None = None,
                        cwd: Path = ROOT) -> WarmProcess | asyncio.subprocess.Process:
    """``python -m module args`` with stdout and stderr on one pipe (``process.stdout``)."""
    environment = dict(os.environ if env is None else env)
    if fresh_interpreters():
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", module, *args, cwd=cwd, env=environment,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    loop = asyncio.get_running_loop()
    pid, fds = _spawn(sys.executable, PRELOAD, [module, *args], environment, cwd,
                      merge_stderr=True)
    readers = []
    for fd in fds:
        reader = asyncio.StreamReader(limit=16 * 1024 * 1024, loop=loop)
        await loop.connect_read_pipe(lambda r=reader: asyncio.StreamReaderProtocol(r),
                                     os.fdopen(fd, "rb", buffering=0))
        readers.append(reader)
    return WarmProcess(pid, readers[0], readers[1])


def run_module(python: str, preload: tuple[str, ...], module: str, *args: str, cwd: Path = ROOT,
               timeout: float) -> subprocess.CompletedProcess[str]:
    """``subprocess.run([python, "-m", module, *args], capture_output=True, text=True)``, from a
    warm ``python`` that has imported ``preload``."""
    command = [python, "-m", module, *args]
    if fresh_interpreters():
        return subprocess.run(command, cwd=cwd, capture_output=True, text=True,
                              timeout=timeout, check=False)
    pid, fds = _spawn(python, preload, [module, *args], os.environ, cwd, merge_stderr=False)
    chunks: dict[int, list[bytes]] = {fd: [] for fd in fds}
    selector = selectors.DefaultSelector()
    for fd in fds:
        selector.register(fd, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    try:
        while selector.get_map():
            ready = selector.select(deadline - time.monotonic())
            if not ready:
                os.kill(pid, signal.SIGKILL)
                raise subprocess.TimeoutExpired(command, timeout)
            for key, _ in ready:
                data = os.read(key.fd, 1 << 16)
                if data:
                    chunks[key.fd].append(data)
                else:
                    selector.unregister(key.fd)
    finally:
        selector.close()
        for fd in fds:
            os.close(fd)
    stdout, stderr, status = (b"".join(chunks[fd]).decode(errors="replace") for fd in fds)
    return subprocess.CompletedProcess(command, int(status) if status else -signal.SIGKILL,
                                       stdout, stderr)


# The warm interpreter's side. Nothing below runs in a test process.

def _serve(control: socket.socket) -> None:
    """Fork a child per request; report each child's exit code on its status pipe."""
    selector = selectors.DefaultSelector()
    selector.register(control, selectors.EVENT_READ)
    status_pipes: dict[int, int] = {}  # pid -> write end of its status pipe
    while True:
        for key, _ in selector.select():
            if key.fileobj is control:
                message, fds, _, _ = socket.recv_fds(control, _MESSAGE_LIMIT, 3)
                if not message:  # the test process has gone: so do its children
                    for pid in status_pipes:
                        _kill_quietly(pid)
                    for pid in list(status_pipes):
                        _report_exit(pid, status_pipes)
                    return
                stdout_fd, stderr_fd, status_fd = fds
                pid = os.fork()
                if pid == 0:
                    _child(json.loads(message), stdout_fd, stderr_fd,
                           [control.fileno(), status_fd, *status_pipes.values()])
                os.close(stdout_fd)
                os.close(stderr_fd)
                status_pipes[pid] = status_fd
                selector.register(os.pidfd_open(pid), selectors.EVENT_READ, pid)
                control.send(str(pid).encode())
            else:
                selector.unregister(key.fileobj)
                os.close(key.fd)
                _report_exit(key.data, status_pipes)


def _report_exit(pid: int, status_pipes: dict[int, int]) -> None:
    """Reap ``pid`` and write its exit code to its status pipe."""
    _, status = os.waitpid(pid, 0)
    status_fd = status_pipes.pop(pid)
    os.write(status_fd, str(os.waitstatus_to_exitcode(status)).encode())
    os.close(status_fd)


def _kill_quietly(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _child(request: dict[str, object], stdout_fd: int, stderr_fd: int, inherited: list[int]
           ) -> None:
    """In the forked child: become ``python -m module args`` and never return."""
    try:
        _die_with_parent()
        for fd in inherited:
            os.close(fd)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(stdout_fd, 1)
        os.dup2(stderr_fd, 2)
        for fd in {null, stdout_fd, stderr_fd}:
            os.close(fd)
        env = request["env"]
        assert isinstance(env, dict)
        os.environ.clear()
        os.environ.update(env)
        cwd = str(request["cwd"])
        os.chdir(cwd)
        sys.path[0] = cwd
        _reopen_standard_streams(unbuffered=bool(env.get("PYTHONUNBUFFERED")))
        ignored = request["ignored"]
        assert isinstance(ignored, list)
        for signum in _INHERITED:
            # As across exec: an ignored signal stays ignored (a background shell's SIGINT, which
            # Python then leaves alone); any other is reset, and SIGINT raises KeyboardInterrupt.
            if signum in ignored:
                signal.signal(signum, signal.SIG_IGN)
            else:
                signal.signal(signum, signal.default_int_handler if signum == signal.SIGINT
                              else signal.SIG_DFL)
        argv = request["argv"]
        assert isinstance(argv, list)
        module, *args = argv
        sys.argv[:] = ["-m", *args]  # in place: a module may hold the list
    except BaseException:
        import traceback

        traceback.print_exc()
        os._exit(120)
    os._exit(_run_as_main(module))


def _die_with_parent() -> None:
    """SIGKILL when the warm interpreter dies, so a child never outlives the tests."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _reopen_standard_streams(*, unbuffered: bool) -> None:
    """Streams on the new fds 0-2, buffered as a new interpreter buffers them."""
    import io

    encoding = sys.stdout.encoding

    def writer(fd: int, **options: bool | str) -> io.TextIOWrapper:
        raw = io.FileIO(fd, "w", closefd=False)
        binary = raw if unbuffered else io.BufferedWriter(raw)
        return io.TextIOWrapper(binary, encoding=encoding, write_through=unbuffered,
                                **options)  # type: ignore[arg-type]

    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding=encoding)
    sys.stdout = writer(1)
    sys.stderr = writer(2, errors="backslashreplace", line_buffering=True)


def _run_as_main(module: str) -> int:
    """What the interpreter does for ``-m``: run, then threads, atexit, and the exit code."""
    import runpy
    import traceback

    code = 0
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as exit_:
        if exit_.code is None or isinstance(exit_.code, int):
            code = exit_.code or 0
        else:
            print(exit_.code, file=sys.stderr)
            code = 1
    except KeyboardInterrupt:
        traceback.print_exc()
        code = -signal.SIGINT
    except BaseException:
        traceback.print_exc()
        code = 1
    threading._shutdown()  # type: ignore[attr-defined]  # join non-daemon threads, as at exit
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    if code == -signal.SIGINT:  # an uncaught Ctrl-C ends the process by SIGINT, as Python does
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    return code


def _main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C ends the tests, which close the socket
    import importlib

    for name in sys.argv[2:]:
        importlib.import_module(name)
    assert threading.active_count() == 1, "forking needs a single-threaded interpreter"
    _serve(control)


if __name__ == "__main__":
    _main()
