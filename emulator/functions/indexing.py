"""Load a Python v2 app by path and describe its functions the way the worker and host do.

The worker imports the script file by stem with the app dir on ``sys.path``, finds exactly one
``azure.functions.FunctionRegister`` and calls ``get_functions()``; a failure there, or one of
its per-function load rules (:mod:`.worker_rules`), refuses the whole app
(``Azure/azure-functions-python-worker azure_functions_worker/loader.py``, ``functions.py``).
The host then validates each function's metadata on its own
(``Azure/azure-functions-host src/WebJobs.Script/Host/WorkerFunctionMetadataProvider.cs``
``ValidateMetadata``): a function that fails is *in error* and is not registered, every other
function serves. The local host adds its own per-function refusal: binding types it cannot run.
See docs/functions-host-indexing-and-timers.md.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import azure.functions as func

from ..errors import BindingError, FunctionIndexingError, IndexingError
from .worker_rules import check_function

__all__ = [
    "BINDING_NAME",
    "LEGACY_BINDING_NAME",
    "SUPPORTED_TYPES",
    "BindingInfo",
    "FunctionError",
    "FunctionInfo",
    "ImportedScript",
    "IndexedApp",
    "describe_function",
    "find_function_register",
    "format_function_errors",
    "format_function_table",
    "import_script",
    "load_functions",
    "parse_binding",
]

FUNCTION_NAME = re.compile(r"^[a-z][a-z0-9_\-]{0,127}$", re.IGNORECASE)
BINDING_NAME = re.compile(r"^(?!.*__)([a-zA-Z_][a-zA-Z0-9_]{0,127}|\$return)$")
"""Host 4.1038 and later (``src/WebJobs.Script/Utility.cs`` BindingNameValidationRegex)."""
LEGACY_BINDING_NAME = re.compile(r"^([a-zA-Z][a-zA-Z0-9]{0,127}|\$return)$")
"""What hosts before 4.1038 accepted: no underscores."""
RETURN = "$return"
CONTEXT = "context"

# Lower-cased binding type -> what the local host does with it.
SUPPORTED_TYPES = frozenset({
    "httptrigger", "http", "signalrtrigger", "signalrconnectioninfo", "signalr",
    "entitytrigger", "durableclient", "timertrigger", "orchestrationtrigger", "activitytrigger",
})


@dataclass(frozen=True)
class BindingInfo:
    """One binding of a function, as the host reads its raw JSON."""

    name: str
    type: str
    direction: str
    """``in``, ``out`` or ``inout`` (lower-cased)."""
    raw: Mapping[str, Any] = field(default_factory=dict)

    @cached_property
    def kind(self) -> str:
        """The binding type lower-cased, for dispatch."""
        return self.type.lower()

    @property
    def is_trigger(self) -> bool:
        return self.kind.endswith("trigger")

    def get(self, key: str, default: Any = None) -> Any:
        """A property of the binding, key compared case-insensitively (the host does)."""
        return self._by_lowered_name.get(key.lower(), default)

    @cached_property
    def _by_lowered_name(self) -> dict[str, Any]:
        """``raw`` by lower-cased key; the first of two spellings wins, as a scan would find."""
        lowered: dict[str, Any] = {}
        for name, value in self.raw.items():
            lowered.setdefault(name.lower(), value)
        return lowered


@dataclass(frozen=True)
class FunctionInfo:
    """A function ready to invoke: its bindings and the callable the worker would call."""

    name: str
    bindings: tuple[BindingInfo, ...]
    user_function: Callable[..., Any]
    is_async: bool
    has_context: bool

    @property
    def trigger(self) -> BindingInfo:
        return next(b for b in self.bindings if b.is_trigger)

    def by_kind(self, kind: str) -> list[BindingInfo]:
        return [b for b in self.bindings if b.kind == kind]

    @property
    def route(self) -> str:
        return str(self.trigger.get("route") or self.name)

    @property
    def methods(self) -> tuple[str, ...]:
        """Allowed HTTP methods upper-cased; empty means all."""
        return tuple(str(m).upper() for m in (self.trigger.get("methods") or ()))

    @property
    def auth_level(self) -> str:
        return str(self.trigger.get("authLevel") or "function").lower()


@dataclass
class ImportedScript:
    """The imported app module; :meth:`restore` undoes the ``sys.modules``/``sys.path`` changes."""

    module: Any
    stem: str
    previous: Any = None
    added_path: str | None = None

    def restore(self) -> None:
        if sys.modules.get(self.stem) is self.module:
            if self.previous is None:
                sys.modules.pop(self.stem, None)
            else:
                sys.modules[self.stem] = self.previous
        if self.added_path is not None and self.added_path in sys.path:
            sys.path.remove(self.added_path)


def import_script(app_dir: Path, script_file: str) -> ImportedScript:
    """Import the script by stem with ``app_dir`` on ``sys.path`` (worker loader.py)."""
    path = Path(app_dir) / script_file
    if not path.is_file():
        raise IndexingError(f"{script_file} not found in {app_dir}; the v2 model needs it "
                            f"(set PYTHON_SCRIPT_FILE_NAME to use another file)")
    directory = str(Path(app_dir))
    added = None
    if directory not in sys.path:
        sys.path.insert(0, directory)
        added = directory
    stem = path.stem
    spec = importlib.util.spec_from_file_location(stem, path)
    if spec is None or spec.loader is None:  # pragma: no cover - only for odd files
        raise IndexingError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    imported = ImportedScript(module=module, stem=stem, previous=sys.modules.get(stem),
                              added_path=added)
    sys.modules[stem] = module  # the app's own imports of its script see this module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        imported.restore()
        raise IndexingError(f"importing {script_file} failed: {type(exc).__name__}: {exc}") from exc
    return imported


def find_function_register(module: Any, script_file: str) -> func.FunctionRegister:
    """Exactly one top-level FunctionRegister, with the worker's error strings (loader.py)."""
    apps = [getattr(module, name) for name in module.__dir__()
            if isinstance(getattr(module, name, None), func.FunctionRegister)]
    if not apps:
        raise IndexingError(f"Could not find top level function app instances in {script_file}.")
    if len(apps) > 1:
        raise IndexingError("More than one FunctionApp or other top level function app instances "
                            "are defined.")
    register: func.FunctionRegister = apps[0]
    return register


def parse_binding(function_name: str, raw: str | Mapping[str, Any]) -> BindingInfo:
    """One raw binding (JSON text or dict) -> :class:`BindingInfo`, enums case-insensitive.

    The name is not checked here: that is a host rule (:func:`check_binding_names`).
    """
    data = json.loads(raw) if isinstance(raw, str) else dict(raw)
    lowered = {str(k).lower(): v for k, v in data.items()}
    name, kind, direction = lowered.get("name"), lowered.get("type"), lowered.get("direction")
    if not isinstance(kind, str) or not kind:
        raise BindingError(f"Function '{function_name}': a binding has no type.")
    direction = str(direction or "in").lower()
    if direction not in ("in", "out", "inout"):
        raise BindingError(f"Function '{function_name}', binding '{name}': unknown direction "
                           f"{direction!r}; use IN or OUT.")
    return BindingInfo(name=str(name) if name is not None else "", type=kind,
                       direction=direction, raw=data)


def _check_binding_name(function: str, binding: BindingInfo) -> None:
    name = binding.name
    if name and BINDING_NAME.match(name):
        return
    if "__" in name:
        fix = f"use single underscores, e.g. '{re.sub('_+', '_', name)}'"
    elif name[:1].isdigit():
        fix = f"start it with a letter, e.g. 'b{name}'"
    else:
        fix = "use letters, digits and single underscores, starting with a letter or '_'"
    raise FunctionIndexingError(
        function, f"The binding name {name} is invalid. Please assign a valid name to the "
                  f"binding.", f"Binding names must match {BINDING_NAME.pattern} "
                               f"(binding type '{binding.type}'): {fix}.")


def _check_host_rules(name: str, bindings: Sequence[BindingInfo]) -> None:
    """WorkerFunctionMetadataProvider.ValidateMetadata / ValidateBindings, then this host's
    own limit: binding types it has no implementation of."""
    if not FUNCTION_NAME.match(name) or name.lower() == "host":
        raise FunctionIndexingError(
            name, f"'{name}' is not a valid function name.",
            f"It must match {FUNCTION_NAME.pattern} (case-insensitive) and not be 'host': "
            f"rename the Python function or use @app.function_name(name=...).")
    seen: set[str] = set()
    for binding in bindings:
        _check_binding_name(name, binding)
        if binding.name.lower() in seen:
            raise FunctionIndexingError(
                name, f"Multiple bindings with name '{binding.name}' discovered. Binding names "
                      f"must be unique.", "Give each binding its own name.")
        seen.add(binding.name.lower())
    triggers = [b for b in bindings if b.is_trigger]
    if not triggers:
        raise FunctionIndexingError(
            name, "No trigger binding specified. A function must have a trigger input binding.",
            "Add one trigger decorator (route, timer_trigger, generic_trigger...).")
    if len(triggers) > 1:
        raise FunctionIndexingError(
            name, "Multiple trigger bindings defined. A function can only have a single trigger "
                  "binding.", "Keep one trigger and make the others input bindings.")
    unsupported = sorted({b.type for b in bindings if b.kind not in SUPPORTED_TYPES})
    if unsupported:
        raise FunctionIndexingError(
            name, f"The binding type(s) '{', '.join(unsupported)}' are not supported by the "
                  f"local host.",
            "Run this function with Core Tools (func start) and Azurite, or on Azure; the local "
            "host runs HTTP, timer, SignalR (signalRTrigger, signalRConnectionInfo, signalR) and "
            "Durable entity bindings.")


def describe_function(name: str, raw_bindings: Sequence[str | Mapping[str, Any]],
                      user_function: Callable[..., Any]) -> FunctionInfo:
    """Check one function against the worker's and the host's rules and describe it.

    Raises :class:`BindingError` / :class:`IndexingError` when the worker would refuse the
    whole app, :class:`FunctionIndexingError` when only this function is in error.
    """
    bindings = tuple(parse_binding(name, raw) for raw in raw_bindings)
    for binding in bindings:
        if binding.kind in ("entitytrigger", "orchestrationtrigger") and binding.name != CONTEXT:
            kind = "entity" if binding.kind == "entitytrigger" else "orchestration"
            raise BindingError(f"Function '{name}': the {kind} trigger binding is named "
                               f"'{binding.name}'; Azure requires context_name='context'.")
    has_context = check_function(name, bindings, user_function)
    _check_host_rules(name, bindings)
    return FunctionInfo(name=name, bindings=bindings, user_function=user_function,
                        is_async=inspect.iscoroutinefunction(user_function),
                        has_context=has_context)


@dataclass(frozen=True)
class FunctionError:
    """A function the host lists as in error: why, and what to change."""

    function: str
    reason: str
    fix: str = ""

    @classmethod
    def of(cls, error: FunctionIndexingError) -> FunctionError:
        return cls(error.function, error.reason, error.fix)

    @property
    def message(self) -> str:
        """ScriptHostLoggerExtension.FunctionError, with the fix after the reason."""
        text = f"The '{self.function}' function is in error: {self.reason}"
        return f"{text} Fix: {self.fix}" if self.fix else text


@dataclass
class IndexedApp:
    """The functions that serve, those in error, and the imported module."""

    functions: list[FunctionInfo]
    errors: list[FunctionError]
    imported: ImportedScript


def load_functions(app_dir: Path, script_file: str) -> IndexedApp:
    """Import the app and describe every function; raises :class:`IndexingError` when the
    whole app is refused (then restored here). The caller calls ``imported.restore()`` when
    done with the app."""
    imported = import_script(app_dir, script_file)
    try:
        register = find_function_register(imported.module, script_file)
        try:
            functions = register.get_functions()
        except ValueError as exc:
            raise IndexingError(str(exc)) from exc
        infos: list[FunctionInfo] = []
        errors: list[FunctionError] = []
        for function in functions:
            try:
                infos.append(describe_function(str(function.get_function_name()),
                                               function.get_raw_bindings(),
                                               function.get_user_function()))
            except FunctionIndexingError as exc:
                errors.append(FunctionError.of(exc))
        names = [i.name.lower() for i in infos]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise IndexingError(f"Function names {duplicates} are not unique "
                                f"(case-insensitive).")
    except BaseException:
        imported.restore()
        raise
    return IndexedApp(infos, errors, imported)


def format_function_table(functions: Sequence[FunctionInfo], route_prefix: str,
                          base_url: str) -> str:
    """The ``Functions:`` table ``func start`` prints."""
    lines = ["Functions:", ""]
    for info in functions:
        trigger = info.trigger
        if trigger.kind == "httptrigger":
            methods = ",".join(info.methods) or "GET,POST,PUT,DELETE,HEAD,PATCH,OPTIONS"
            path = "/".join(p for p in (route_prefix, info.route.strip("/")) if p)
            lines.append(f"\t{info.name}: [{methods}] {base_url.rstrip('/')}/{path}")
        else:
            lines.append(f"\t{info.name}: {trigger.type}")
        lines.append("")
    return "\n".join(lines)


def format_function_errors(errors: Sequence[FunctionError]) -> list[str]:
    """One line per function in error, as the host logs them."""
    return [error.message for error in errors]
