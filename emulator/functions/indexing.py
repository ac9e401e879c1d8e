"""Load a Python v2 app by path and describe its functions the way the worker and host do.

functions-python.md §2: import the script file by stem with the app dir on ``sys.path``, find
exactly one ``azure.functions.FunctionRegister``, call ``get_functions()``, parse each raw binding
(enums case-insensitively), then apply the host's naming rules (§2.4) and the worker's parameter
rules (§2.5). Every refusal names the function, the binding and the fix.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import re
import sys
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import azure.functions as func

from .errors import BindingError, IndexingError

__all__ = [
    "SUPPORTED_TYPES",
    "BindingInfo",
    "FunctionInfo",
    "ImportedScript",
    "describe_function",
    "find_function_register",
    "format_function_table",
    "import_script",
    "load_functions",
    "parse_binding",
]

FUNCTION_NAME = re.compile(r"^[a-z][a-z0-9_\-]{0,127}$", re.IGNORECASE)
BINDING_NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9]{0,127}$")
RETURN = "$return"
CONTEXT = "context"

# Lower-cased binding type -> what the local host does with it.
SUPPORTED_TYPES = frozenset({
    "httptrigger", "http", "signalrtrigger", "signalrconnectioninfo", "signalr",
    "entitytrigger", "durableclient", "orchestrationtrigger", "activitytrigger",
})
_GENERIC = frozenset({"signalrtrigger", "signalrconnectioninfo", "signalr"})
_TEXT_TYPES = (str, bytes, bytearray)


@dataclass(frozen=True)
class BindingInfo:
    """One binding of a function, as the host reads its raw JSON."""

    name: str
    type: str
    direction: str
    """``in``, ``out`` or ``inout`` (lower-cased)."""
    raw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """The binding type lower-cased, for dispatch."""
        return self.type.lower()

    @property
    def is_trigger(self) -> bool:
        return self.kind.endswith("trigger")

    def get(self, key: str, default: Any = None) -> Any:
        """A property of the binding, key compared case-insensitively (the host does)."""
        lowered = key.lower()
        for name, value in self.raw.items():
            if name.lower() == lowered:
                return value
        return default


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
    """Exactly one top-level FunctionRegister, with the worker's error strings (§2.1)."""
    apps = [getattr(module, name) for name in module.__dir__()
            if isinstance(getattr(module, name, None), func.FunctionRegister)]
    if not apps:
        raise IndexingError(f"Could not find top level function app instances in {script_file}.")
    if len(apps) > 1:
        raise IndexingError("More than one FunctionApp or other top level function app instances "
                            "are defined.")
    return apps[0]


def parse_binding(function_name: str, raw: str | Mapping[str, Any]) -> BindingInfo:
    """One raw binding (JSON text or dict) -> :class:`BindingInfo`; checks the host's regexes."""
    data = json.loads(raw) if isinstance(raw, str) else dict(raw)
    lowered = {str(k).lower(): v for k, v in data.items()}
    name, kind, direction = lowered.get("name"), lowered.get("type"), lowered.get("direction")
    if not isinstance(kind, str) or not kind:
        raise BindingError(f"Function '{function_name}': a binding has no type.")
    if not isinstance(name, str) or not (name == RETURN or BINDING_NAME.match(name)):
        fix = str(name).replace("_", "") if isinstance(name, str) else "a camelCase name"
        raise BindingError(
            f"The binding name {name} is invalid. Please assign a valid name to the binding. "
            f"(function '{function_name}', binding type '{kind}': binding names must match "
            f"{BINDING_NAME.pattern}, no underscores; rename it, e.g. '{fix}')"
        )
    direction = str(direction or "in").lower()
    if direction not in ("in", "out", "inout"):
        raise BindingError(f"Function '{function_name}', binding '{name}': unknown direction "
                           f"{direction!r}; use IN or OUT.")
    return BindingInfo(name=name, type=kind, direction=direction, raw=data)


def _hints(user_function: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(user_function)
    except Exception:
        return dict(getattr(user_function, "__annotations__", {}))


def _out_arg(annotation: Any) -> tuple[bool, Any]:
    """(is an Out[...] annotation, its type argument)."""
    origin = typing.get_origin(annotation) or annotation
    if inspect.isclass(origin) and issubclass(origin, func.Out):
        args = typing.get_args(annotation)
        return True, args[0] if args else None
    return False, None


def _check_annotation(fname: str, binding: BindingInfo, annotation: Any) -> None:
    if annotation is inspect.Parameter.empty:
        return
    is_out, arg = _out_arg(annotation)
    where = f"Function '{fname}', binding '{binding.name}' ({binding.type})"
    if binding.direction == "out":
        if not is_out:
            raise BindingError(f"{where}: binding {binding.name} is declared to have the 'out' "
                               f"direction, but its annotation in Python is not a subclass of "
                               f"azure.functions.Out; annotate it func.Out[str].")
        if binding.kind in _GENERIC and arg not in (None, *_TEXT_TYPES):
            shown = getattr(arg, "__name__", arg)
            raise BindingError(f"{where}: type of {binding.name} binding in function.json does "
                               f"not match its Python annotation Out[{shown}]; annotate it "
                               f"func.Out[str] and set a json.dumps(...) string.")
        return
    if is_out:
        raise BindingError(f"{where}: binding {binding.name} is declared to have the 'in' "
                           f"direction, but its annotation is azure.functions.Out; remove "
                           f"Out[...].")
    allowed: tuple[Any, ...] = ()
    if binding.kind in _GENERIC or binding.kind == "durableclient":
        allowed = (str, bytes)
    elif binding.kind == "httptrigger":
        allowed = (func.HttpRequest,)
    elif binding.kind == "entitytrigger":
        allowed = (func.EntityContext, str)
    elif binding.kind == "orchestrationtrigger":
        allowed = (func.OrchestrationContext, str)
    if allowed and not (inspect.isclass(annotation) and issubclass(annotation, allowed)):
        names = " or ".join(a.__name__ for a in allowed)
        shown = getattr(annotation, "__name__", annotation)
        raise BindingError(f"{where}: type of {binding.name} binding in function.json does not "
                           f"match its Python annotation {shown}; annotate it {names} (or leave "
                           f"it unannotated).")


def describe_function(name: str, raw_bindings: Sequence[str | Mapping[str, Any]],
                      user_function: Callable[..., Any]) -> FunctionInfo:
    """Check one function against the host's and the worker's rules and describe it."""
    if not FUNCTION_NAME.match(name) or name.lower() == "host":
        raise IndexingError(f"'{name}' is not a valid function name: it must match "
                            f"{FUNCTION_NAME.pattern} (case-insensitive) and not be 'host'; "
                            f"rename the Python function or pass function_name(name=...).")
    bindings = tuple(parse_binding(name, raw) for raw in raw_bindings)
    seen: set[str] = set()
    for binding in bindings:
        if binding.name.lower() in seen:
            raise BindingError(f"Function '{name}': multiple bindings with name "
                               f"'{binding.name}'; give each binding its own name.")
        seen.add(binding.name.lower())
        if binding.kind not in SUPPORTED_TYPES:
            raise BindingError(f"Function '{name}': binding '{binding.name}' has type "
                               f"'{binding.type}', which the local host cannot run; supported: "
                               f"{', '.join(sorted(SUPPORTED_TYPES))}.")
    triggers = [b for b in bindings if b.is_trigger]
    if len(triggers) != 1:
        raise BindingError(f"Function '{name}': a valid function must have one and only one "
                           f"trigger, found {len(triggers)}.")
    if triggers[0].kind in ("entitytrigger", "orchestrationtrigger") and \
            triggers[0].name != CONTEXT:
        kind = "entity" if triggers[0].kind == "entitytrigger" else "orchestration"
        raise BindingError(f"Function '{name}': the {kind} trigger binding is named "
                           f"'{triggers[0].name}'; Azure requires context_name='context'.")
    signature = inspect.signature(user_function)
    params = dict(signature.parameters)
    has_context = CONTEXT in params and CONTEXT not in seen
    declared = {b.name for b in bindings if b.name != RETURN}
    python_params = set(params) - ({CONTEXT} if has_context else set())
    if python_params - declared:
        extra = sorted(python_params - declared)
        raise BindingError(f"Function '{name}': the following parameters are declared in Python "
                           f"but not in function.json: {extra}; add a binding for each or remove "
                           f"them.")
    if declared - python_params:
        missing = sorted(declared - python_params)
        raise BindingError(f"Function '{name}': the following parameters are declared in "
                           f"function.json but not in Python: {missing}; add them as parameters.")
    hints = _hints(user_function)
    for binding in bindings:
        if binding.name != RETURN:
            annotation = hints.get(binding.name, params[binding.name].annotation)
            _check_annotation(name, binding, annotation)
    return FunctionInfo(name=name, bindings=bindings, user_function=user_function,
                        is_async=inspect.iscoroutinefunction(user_function),
                        has_context=has_context)


def load_functions(app_dir: Path, script_file: str) -> tuple[list[FunctionInfo], ImportedScript]:
    """Import the app and describe every function; raises :class:`IndexingError` on refusal.

    The caller calls ``restore()`` on the returned :class:`ImportedScript` when done with the
    app (a refused app is restored here).
    """
    imported = import_script(app_dir, script_file)
    try:
        register = find_function_register(imported.module, script_file)
        try:
            functions = register.get_functions()
        except ValueError as exc:
            raise IndexingError(str(exc)) from exc
        infos = [describe_function(str(f.get_function_name()), f.get_raw_bindings(),
                                   f.get_user_function()) for f in functions]
        names = [i.name.lower() for i in infos]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise IndexingError(f"Function names {duplicates} are not unique "
                                f"(case-insensitive).")
    except BaseException:
        imported.restore()
        raise
    return infos, imported


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
