"""The Python worker's load-time rules for one function; any failure refuses the whole app.

The worker checks every indexed function while it answers the host's metadata request
(``Azure/azure-functions-python-worker azure_functions_worker/functions.py``
``Registry.add_indexed_function``); one ``FunctionLoadError`` fails that request, so the host
gets no function at all ("Worker failed to index functions"). The checks and their order:
binding directions, the ``context`` parameter, parameters against bindings, parameter
annotations, then the return annotation of a ``$return`` binding
(docs/functions-host-indexing-and-timers.md, "Whole-app refusals").
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import azure.functions as func

from ..errors import BindingError

__all__ = ["check_function", "load_error"]

RETURN = "$return"
CONTEXT = "context"
_GENERIC = frozenset({"signalrtrigger", "signalrconnectioninfo", "signalr"})
_TEXT_TYPES = (str, bytes, bytearray)
_binding_registry: Callable[[], Any] = func.get_binding_registry
"""The library's converters by binding type, which the worker consults (bindings/meta.py)."""


class _Binding(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def direction(self) -> str: ...
    @property
    def kind(self) -> str: ...


def load_error(function: str, message: str, fix: str = "") -> BindingError:
    """The worker's ``FunctionLoadError`` text, with the fix after it."""
    text = f"cannot load the {function} function: {message}"
    return BindingError(f"{text} ({fix})" if fix else text)


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


def _check_annotation(fname: str, binding: _Binding, annotation: Any) -> None:
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
    elif binding.kind == "timertrigger":
        # str/bytes make it a generic binding: the function gets the JSON text.
        allowed = (func.TimerRequest, str, bytes)
    if allowed and not (inspect.isclass(annotation) and issubclass(annotation, allowed)):
        names = " or ".join(a.__name__ for a in allowed)
        shown = getattr(annotation, "__name__", annotation)
        raise BindingError(f"{where}: type of {binding.name} binding in function.json does not "
                           f"match its Python annotation {shown}; annotate it {names} (or leave "
                           f"it unannotated).")


def _check_directions(name: str, bindings: Sequence[_Binding]) -> None:
    for binding in bindings:
        if binding.direction == "inout":
            raise load_error(name, '"inout" bindings are not supported',
                             f"binding '{binding.name}': use direction IN or OUT")
        if binding.name == RETURN and binding.direction != "out":
            raise load_error(name, '"$return" binding must have direction set to "out"')


def _check_context(name: str, hints: dict[str, Any]) -> None:
    """Registry.is_context_required: an annotated ``context`` must be a class named Context."""
    if CONTEXT not in hints:
        return
    annotation = hints[CONTEXT]
    if not isinstance(annotation, type) or annotation.__name__ != "Context":
        raise load_error(name, 'the "context" parameter is expected to be of type '
                               f'azure.functions.Context, got {annotation!r}',
                         "annotate it 'context: func.Context' or leave it unannotated")


def _check_return(name: str, bindings: Sequence[_Binding], hints: dict[str, Any]) -> None:
    """Registry.get_function_return_type, for a function with a ``$return`` binding."""
    returned = next((b for b in bindings if b.name == RETURN), None)
    if returned is None or "return" not in hints:
        return
    annotation = hints["return"]
    if _out_arg(annotation)[0]:
        raise load_error(name, "return annotation should not be azure.functions.Out")
    fix = ("annotate it '-> func.HttpResponse' or '-> str', or remove the annotation"
           if returned.kind == "http" else "change or remove the return annotation")
    if not isinstance(annotation, type):
        raise load_error(name, f"has invalid non-type return annotation {annotation!r}", fix)
    converter = _binding_registry().get(returned.type)
    if converter is not None:
        accepted = bool(converter.check_output_type_annotation(annotation))
    else:  # the worker's GenericBinding
        accepted = issubclass(annotation, _TEXT_TYPES)
    if not accepted:
        raise load_error(name, f'Python return annotation "{annotation.__name__}" does not '
                               f'match binding type "{returned.type}"', fix)


def check_function(name: str, bindings: Sequence[_Binding],
                   user_function: Callable[..., Any]) -> bool:
    """Apply the worker's rules; returns whether the function takes a ``context`` parameter.

    Raises :class:`BindingError` (the whole app is refused) on the first rule broken.
    """
    _check_directions(name, bindings)
    params = dict(inspect.signature(user_function).parameters)
    names = {b.name for b in bindings}
    hints = _hints(user_function)
    has_context = CONTEXT in params and CONTEXT not in names
    if has_context:
        _check_context(name, hints)
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
    for binding in bindings:
        if binding.name != RETURN:
            annotation = hints.get(binding.name, params[binding.name].annotation)
            _check_annotation(name, binding, annotation)
    _check_return(name, bindings, hints)
    return has_context
