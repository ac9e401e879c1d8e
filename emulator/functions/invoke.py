"""Running user functions: sync ones in a thread pool, async ones on the loop (as the Python
worker does: Azure/azure-functions-python-worker ``dispatcher.py``).

Each invocation gets fresh ``Out`` holders and a ``func.Context``, and is logged the way the host
logs it: ``Executing 'Functions.<name>' (Reason='…', Id=…)`` then ``Executed … (Succeeded|Failed,
Id=…, Duration=…ms)``. A raising function becomes :class:`InvocationError`, logged at ERROR
with the traceback the first time this function fails with this exception type; each repeat is
one INFO line that still says ``Failed`` and names the exception (a client that makes a
function fail 2,000 times costs 2,000 lines, not 40,000). What the exception says is escaped
(:func:`emulator.logs.printable`): it often repeats what the client sent.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import os
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar, overload

import azure.functions as func
from azure.functions import _abc as abc_types

from ..errors import FunctionsHostError, InvocationError
from ..logs import OnceLog, current_function, printable
from .indexing import FunctionInfo
from .log import invoke_logger

__all__ = ["InvocationResult", "Invoker", "OutHolder", "exit_if_functions_stranded"]

T = TypeVar("T")


class _ThreadCalls:
    """Sync function calls running in worker threads now, every host of the process together."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def run(self, call: Callable[[], T]) -> T:
        with self._lock:
            self.count += 1
        try:
            return call()
        finally:
            with self._lock:
                self.count -= 1


_THREAD_CALLS = _ThreadCalls()


def exit_if_functions_stranded(code: int) -> None:
    """After the host stopped: when sync functions still run in worker threads (a cancelled
    invocation's thread cannot be stopped), exit now with ``code`` instead of letting the
    interpreter wait for them at exit, as it waits for every pool thread. On Azure the worker
    process stops with the host, whatever its functions are doing."""
    stranded = _THREAD_CALLS.count
    if not stranded:
        return
    invoke_logger.warning("%d function call(s) still running in worker threads; exiting "
                          "without waiting for them", stranded)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


class OutHolder(func.Out[Any]):
    """The worker's plain holder for an output binding."""

    def __init__(self) -> None:
        self._value: Any = None

    def set(self, val: Any) -> None:
        self._value = val

    def get(self) -> Any:
        return self._value


class _TraceContext(abc_types.TraceContext):
    @property
    def trace_parent(self) -> str:
        return ""

    @property
    def trace_state(self) -> str:
        return ""

    @property
    def attributes(self) -> dict[str, str]:
        return {}


class _RetryContext(abc_types.RetryContext):
    @property
    def retry_count(self) -> int:
        return 0

    @property
    def max_retry_count(self) -> int:
        return 0

    @property
    def exception(self) -> Any:
        return None


class _Context(func.Context):
    def __init__(self, invocation_id: str, name: str, directory: str) -> None:
        self._id, self._name, self._dir = invocation_id, name, directory
        self._local = threading.local()

    @property
    def invocation_id(self) -> str:
        return self._id

    @property
    def thread_local_storage(self) -> Any:
        return self._local

    @property
    def function_name(self) -> str:
        return self._name

    @property
    def function_directory(self) -> str:
        return self._dir

    @property
    def trace_context(self) -> abc_types.TraceContext:
        return _TraceContext()

    @property
    def retry_context(self) -> abc_types.RetryContext:
        return _RetryContext()


@dataclass(frozen=True)
class InvocationResult:
    """The return value and the values set on each output binding (None = not set)."""

    return_value: Any
    outputs: Mapping[str, Any]


class Invoker:
    """Owns the thread pool; :meth:`close` releases it."""

    def __init__(self, app_dir: str, max_workers: int | None = None) -> None:
        self._app_dir = app_dir
        self.failures = OnceLog()
        """Failures per (function, exception type): the traceback once, then one line."""
        self._pool = ThreadPoolExecutor(max_workers=max_workers,
                                        thread_name_prefix="functions-worker")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    @overload
    async def invoke(self, info: FunctionInfo, inputs: Mapping[str, Any], *, reason: str,
                     invocation_id: str, finish: Callable[[InvocationResult], Awaitable[T]],
                     ) -> T: ...

    @overload
    async def invoke(self, info: FunctionInfo, inputs: Mapping[str, Any], *, reason: str,
                     invocation_id: str, finish: None = None) -> InvocationResult: ...

    async def invoke(
        self,
        info: FunctionInfo,
        inputs: Mapping[str, Any],
        *,
        reason: str,
        invocation_id: str,
        finish: Callable[[InvocationResult], Awaitable[T]] | None = None,
    ) -> T | InvocationResult:
        """Call the function with ``inputs`` plus fresh Out holders, then ``finish`` (the
        output bindings); a failure of either raises InvocationError and is logged as Failed."""
        outs = {b.name: OutHolder() for b in info.bindings
                if b.direction == "out" and b.name != "$return"}
        kwargs: dict[str, Any] = {**inputs, **outs}
        if info.has_context:
            kwargs["context"] = _Context(invocation_id, info.name, self._app_dir)
        invoke_logger.info("Executing 'Functions.%s' (Reason='%s', Id=%s)",
                           info.name, reason, invocation_id)
        started = time.monotonic()
        try:
            value = await self._call(info, kwargs)
            result = InvocationResult(return_value=value,
                                      outputs={n: h.get() for n, h in outs.items()})
            finished = await finish(result) if finish is not None else result
        except asyncio.CancelledError:  # the host stopped before the function returned
            invoke_logger.info("Executed 'Functions.%s' (Failed, Id=%s, Duration=%dms): "
                               "cancelled, the host is stopping", info.name, invocation_id,
                               (time.monotonic() - started) * 1000)
            raise
        except Exception as exc:
            duration = (time.monotonic() - started) * 1000
            key = f"{info.name}:{type(exc).__module__}.{type(exc).__qualname__}"
            if isinstance(exc, FunctionsHostError):  # ours: the message says it all
                self.failures.error(invoke_logger, key,
                                    "Executed 'Functions.%s' (Failed, Id=%s, Duration=%dms): %s",
                                    info.name, invocation_id, duration, printable(exc, 500))
                raise
            self.failures.exception(invoke_logger, key, exc,
                                    "Executed 'Functions.%s' (Failed, Id=%s, Duration=%dms)",
                                    info.name, invocation_id, duration)
            raise InvocationError(
                f"Exception while executing function: Functions.{info.name} "
                f"(Id={invocation_id}): {type(exc).__name__}: {exc}",
                # What the host's RpcException says, without the stack.
                completion_error=f"Result: Failure\nException: {type(exc).__name__}: {exc}",
            ) from exc
        invoke_logger.info("Executed 'Functions.%s' (Succeeded, Id=%s, Duration=%dms)",
                           info.name, invocation_id, (time.monotonic() - started) * 1000)
        return finished

    async def _call(self, info: FunctionInfo, kwargs: Mapping[str, Any]) -> Any:
        """The user's function, with its name as the context of what it logs."""
        token = current_function.set(info.name)
        try:
            if info.is_async:
                return await info.user_function(**kwargs)
            call = functools.partial(contextvars.copy_context().run,
                                     functools.partial(info.user_function, **kwargs))
            return await asyncio.get_running_loop().run_in_executor(
                self._pool, _THREAD_CALLS.run, call)
        finally:
            current_function.reset(token)

    def log_failure(self, info: FunctionInfo, invocation_id: str, message: str,
                    kind: str = "binding") -> None:
        """A failure around the function (a binding, a bad return type): ERROR the first time
        per function and ``kind``, INFO afterwards."""
        self.failures.error(invoke_logger, f"{info.name}:{kind}",
                            "Executed 'Functions.%s' (Failed, Id=%s): %s", info.name,
                            invocation_id, printable(message, 500))
