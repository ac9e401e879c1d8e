"""Give each indexed function to its trigger's registry; a function its extension refuses is in
error and the others still serve, pure.

On Azure each extension builds its trigger binding when the host indexes the function; an
exception there is a ``FunctionIndexingException`` that the host records against that function
only (``Azure/azure-functions-host src/WebJobs.Script/Host/ScriptHost.cs``, "For all startup time
indexing/listener errors, we accumulate them per function"). The same holds here for HTTP route
templates, SignalR trigger keys and ``parameterNames``, SignalR hub names and timer schedules
(docs/functions-host-indexing-and-timers.md, "Per-function errors").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..errors import FunctionIndexingError, FunctionsHostError, IndexingError
from .expressions import resolve_settings
from .indexing import FunctionError, FunctionInfo
from .routes import Route, compile_route, host_order_key
from .timer_trigger import TimerTrigger, read_timer_trigger
from .webhook import TriggerKey, check_trigger, trigger_key

__all__ = ["Registrations", "register_functions"]

_HUB_BINDINGS = ("signalrconnectioninfo", "signalr")


@dataclass
class Registrations:
    """What serves, by trigger, and what is in error."""

    functions: list[FunctionInfo] = field(default_factory=list)
    errors: list[FunctionError] = field(default_factory=list)
    http_routes: list[tuple[Route, FunctionInfo]] = field(default_factory=list)
    triggers: dict[TriggerKey, FunctionInfo] = field(default_factory=dict)
    timers: list[TimerTrigger] = field(default_factory=list)


def _parameter_names(info: FunctionInfo) -> None:
    binding = info.trigger
    names = binding.get("parameterNames")
    if names is None:
        return
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        # The host copies JSON onto SignalRTriggerAttribute.ParameterNames (string[]) with
        # JToken.ToObject, which cannot turn a string into an array.
        raise FunctionIndexingError(
            info.name, f"Unable to configure binding '{binding.name}' of type '{binding.type}'. "
                       f"This may indicate invalid function.json properties. Error converting "
                       f"value {names!r} to type 'System.String[]'.",
            f"pass a list: parameter_names=[{names!r}]" if isinstance(names, str)
            else "pass a list of strings as parameter_names.")
    lowered = [n.lower() for n in names]
    if len(set(lowered)) != len(lowered):
        raise FunctionIndexingError(info.name, "parameterNames must be unique "
                                               "(case-insensitive).",
                                    "remove the repeated names from parameter_names.")


def _signalr_trigger(info: FunctionInfo, settings: Mapping[str, str],
                     triggers: Mapping[TriggerKey, FunctionInfo]) -> TriggerKey:
    trigger = info.trigger
    try:
        hub = resolve_settings(str(trigger.get("hubName") or ""), settings)
        category = resolve_settings(str(trigger.get("category") or ""), settings)
        event = resolve_settings(str(trigger.get("event") or ""), settings)
    except FunctionsHostError as exc:
        raise FunctionIndexingError(info.name, str(exc),
                                    "define the app setting it names.") from None
    try:
        check_trigger(info.name, hub, category, event)
    except IndexingError as exc:
        raise FunctionIndexingError(info.name, str(exc),
                                    "set hub_name, category and event on the trigger.") from None
    key = trigger_key(hub, category, event)
    if key in triggers:
        raise FunctionIndexingError(
            info.name, f"Duplicated key parameter: functions '{triggers[key].name}' and "
                       f"'{info.name}' both handle hub '{hub}', category '{category}', event "
                       f"'{event}'.", "give each function its own event.")
    _parameter_names(info)
    return key


def _hub_names(info: FunctionInfo) -> None:
    for binding in info.bindings:
        if binding.kind in _HUB_BINDINGS and not str(binding.get("hubName") or "").strip():
            raise FunctionIndexingError(
                info.name, f"The {binding.type} binding '{binding.name}' has no hubName, so "
                           f"its SignalR calls have no hub.",
                "pass hub_name='<hub>' (or '%Setting%') to the binding.")


def _register(info: FunctionInfo, settings: Mapping[str, str], found: Registrations) -> None:
    _hub_names(info)
    kind = info.trigger.kind
    if kind == "httptrigger":
        if _route_text(info).startswith("admin"):
            # The host keeps admin/... for itself (ScriptHost's HTTP route validation).
            raise FunctionIndexingError(
                info.name, "The specified route conflicts with one or more built in routes.",
                "choose a route that does not start with 'admin'.")
        try:
            route = compile_route(info.route)
        except IndexingError as exc:
            raise FunctionIndexingError(info.name, str(exc), "fix the route template.") from None
        found.http_routes.append((route, info))
    elif kind == "signalrtrigger":
        found.triggers[_signalr_trigger(info, settings, found.triggers)] = info
    elif kind == "timertrigger":
        found.timers.append(read_timer_trigger(info, settings))


def register_functions(functions: Sequence[FunctionInfo],
                       settings: Mapping[str, str]) -> Registrations:
    """Register each function; those refused are listed in ``errors`` and left out."""
    found = Registrations()
    for info in functions:
        try:
            _register(info, settings, found)
        except FunctionIndexingError as exc:
            found.errors.append(FunctionError.of(exc))
            continue
        found.functions.append(info)
    _order_routes(found)
    return found


def _route_text(info: FunctionInfo) -> str:
    """The route as the host compares it: outer slashes trimmed, lower-cased."""
    return info.route.strip("/").lower()


def _conflict(one: FunctionInfo, other: FunctionInfo) -> bool:
    """The host's HttpRoutesConflict: the same template (ignoring case and outer slashes) and
    a method in common (no methods means all)."""
    if _route_text(one) != _route_text(other):
        return False
    return not one.methods or not other.methods or bool(set(one.methods) & set(other.methods))


def _order_routes(found: Registrations) -> None:
    """Routes in the order the host tries them, first match wins: function names sorted as
    .NET's OrdinalIgnoreCase sorts them; no ranking of templates (docs/functions-host.md,
    "HTTP trigger"). A function whose route another one earlier in that order already maps,
    for a method in common, is in error, as the host refuses it."""
    kept: list[tuple[Route, FunctionInfo]] = []
    for route, info in sorted(found.http_routes, key=lambda pair: host_order_key(pair[1].name)):
        clash = next((other for _, other in kept if _conflict(info, other)), None)
        if clash is None:
            kept.append((route, info))
            continue
        found.errors.append(FunctionError(
            info.name, f"The route specified conflicts with the route defined by function "
                       f"'{clash.name}'.", "give one of them another route or other methods."))
        found.functions.remove(info)
    found.http_routes = kept
