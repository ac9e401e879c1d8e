"""Settings checks made once at start, pure: what Core Tools warns about, said before the first
call fails.

Core Tools checks, before it starts the host, that every ``connection`` a binding names is set
and that ``AzureWebJobsStorage`` is set when a trigger needs storage (``Azure/azure-functions-
core-tools src/Cli/func/Actions/HostActions/StartHostAction.cs`` ``CheckNonOptionalSettings``).
It reads those from ``function.json`` files, so a Python v2 app is not checked at all; this host
checks the indexed bindings instead, and only warns: the function still serves and its calls
fail as on Azure (docs/functions-host-indexing-and-timers.md, "Start-time checks").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .indexing import LEGACY_BINDING_NAME, FunctionInfo
from .signalr_output import DEFAULT_CONNECTION_SETTING

__all__ = ["binding_name_notes", "settings_warnings"]

STORAGE = "AzureWebJobsStorage"
_SIGNALR = ("signalrtrigger", "signalrconnectioninfo", "signalr")
_NEEDS_STORAGE = {"timertrigger": "timer triggers keep their schedule status",
                  "entitytrigger": "Durable Functions keep their task hub",
                  "durableclient": "Durable Functions keep their task hub"}


def _is_set(settings: Mapping[str, str], name: str) -> bool:
    """Set as a value, a connection string, or identity-based (``name__…``; ``__`` is ``:``)."""
    wanted = {name.lower(), f"connectionstrings:{name.lower()}"}
    for key, value in settings.items():
        lowered = key.lower().replace("__", ":")
        if not value.strip():
            continue
        if lowered in wanted or lowered.startswith(f"{name.lower()}:"):
            return True
    return False


def _connection_warnings(functions: Sequence[FunctionInfo],
                         settings: Mapping[str, str]) -> list[str]:
    """One warning per unset setting; a setting several bindings share is named once."""
    missing: dict[str, list[tuple[str, str, str]]] = {}
    for info in functions:
        for binding in info.bindings:
            if binding.kind not in _SIGNALR:
                continue
            prop = next((p for p in ("connectionStringSetting", "connection")
                         if binding.get(p)), None)
            name = str(binding.get(prop)) if prop else DEFAULT_CONNECTION_SETTING
            if not _is_set(settings, name):
                shown = f"'{prop}' property" if prop else "default connection"
                missing.setdefault(name, []).append((shown, binding.type, info.name))
    found = []
    for name, uses in missing.items():
        fix = (f"Set {name} in local.settings.json Values (for the local SignalR Service: "
               f"Endpoint=http://localhost;Port=8888;AccessKey=<key>;Version=1.0;).")
        if len(uses) == 1:
            [(shown, kind, function)] = uses
            found.append(f"Cannot find value named '{name}' in local.settings.json that "
                         f"matches the {shown} set on '{kind}' in function '{function}'; its "
                         f"calls will fail. {fix}")
            continue
        functions_named = ", ".join(dict.fromkeys(f"'{function}'" for _, _, function in uses))
        found.append(f"Cannot find value named '{name}' in local.settings.json that matches "
                     f"the connection of {len(uses)} SignalR bindings in functions "
                     f"{functions_named}; their calls will fail. {fix}")
    return found


def settings_warnings(functions: Sequence[FunctionInfo],
                      settings: Mapping[str, str]) -> list[str]:
    """One line per problem: unset SignalR connections, then a missing storage setting."""
    found = _connection_warnings(functions, settings)
    needs = sorted({reason for info in functions for b in info.bindings
                    if (reason := _NEEDS_STORAGE.get(b.kind))})
    if needs and not _is_set(settings, STORAGE):
        found.append(
            f"Missing value for {STORAGE} in local.settings.json. On Azure {' and '.join(needs)} "
            f"in that storage account; this host keeps them in its data folder instead. Set "
            f"{STORAGE} (\"UseDevelopmentStorage=true\" with Azurite) before you run the app "
            f"with Core Tools or deploy it.")
    return found


def binding_name_notes(functions: Sequence[FunctionInfo]) -> list[str]:
    """Binding names current hosts accept but hosts before 4.1038 refuse (underscores)."""
    return [f"Function '{info.name}': binding name '{b.name}' has an underscore; Functions "
            f"hosts before 4.1038 refuse it ('The binding name {b.name} is invalid')."
            for info in functions for b in info.bindings
            if not LEGACY_BINDING_NAME.match(b.name)]
