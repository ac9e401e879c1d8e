"""The host's state and its binding shell: inputs before, outputs after an invocation.

``HostRuntime`` is built once by ``make_app`` (indexing happens there, so a refused app never
starts) and owns the thread pool and the one ``aiohttp.ClientSession`` used for REST calls.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from yarl import URL

from ..contracts import (
    ConnectionString,
    ReusedTokens,
    parse_connection_string,
)
from ..errors import BindingError, ConfigError, InvalidConnectionString, OutputBindingError
from ..http_client import HttpClient
from ..logs import OnceLog, printable
from .config import HostConfig, HostJson, load_host_json
from .drain import InFlight
from .expressions import resolve
from .indexing import FunctionError, FunctionInfo, ImportedScript, IndexedApp, load_functions
from .invoke import Invoker
from .keys import KeyStore
from .log import host_logger, shorten
from .registration import register_functions
from .routes import Route
from .signalr_output import (
    DEFAULT_CONNECTION_SETTING,
    build_connection_info,
    build_rest_calls,
    connection_setting_name,
    connection_string_from,
    custom_claims,
)
from .timer_trigger import TimerTrigger
from .webhook import TriggerKey

__all__ = ["HostRuntime"]

REASON = "This function was programmatically called via the host APIs."

REST_TIMEOUT = 30.0
"""Seconds for one REST call of a signalR output binding."""
REST_ANSWER_LIMIT = 1024 * 1024
"""Bytes of a REST answer read at most: the service answers with an empty body or a short error."""


def _thread_count(settings: Mapping[str, str]) -> int | None:
    """PYTHON_THREADPOOL_THREAD_COUNT (1-32), else Python's default (WKR dispatcher)."""
    text = settings.get("PYTHON_THREADPOOL_THREAD_COUNT")
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= 32:
        raise ConfigError(f"PYTHON_THREADPOOL_THREAD_COUNT must be an integer from 1 to 32, "
                          f"got {text!r}")
    return int(text)


class DurableInputs(Protocol):
    def inputs_for(self, info: FunctionInfo, request: Any) -> dict[str, Any]: ...


def _selected(functions: list[FunctionInfo], names: tuple[str, ...]) -> list[FunctionInfo]:
    """Core Tools' ``--functions a b``: only those are loaded; the others are not registered."""
    if not names:
        return functions
    wanted = {name.lower() for name in names}
    unknown = wanted - {info.name.lower() for info in functions}
    if unknown:
        raise ConfigError(f"--functions names no function of this app: "
                          f"{', '.join(sorted(unknown))}")
    host_logger.info("Running only the functions %s (--functions)", ", ".join(sorted(wanted)))
    return [info for info in functions if info.name.lower() in wanted]


@dataclass
class HostRuntime:
    config: HostConfig
    host_json: HostJson
    functions: list[FunctionInfo]
    """The functions that serve (those in error are not registered, as on Azure)."""
    route_prefix: str
    http_routes: list[tuple[Route, FunctionInfo]]
    triggers: dict[TriggerKey, FunctionInfo]
    invoker: Invoker
    imported: ImportedScript | None = None
    """The app module; restored out of ``sys.modules`` when the host stops."""
    keys: KeyStore | None = None
    http: HttpClient | None = None
    function_errors: list[FunctionError] = field(default_factory=list)
    """Functions in error, listed at start (``The 'x' function is in error: …``)."""
    timers: list[TimerTrigger] = field(default_factory=list)
    durable: DurableInputs | None = None
    """The Durable runtime once set up: it makes the ``durableClient`` binding values."""
    replaced_env: dict[str, str | None] = field(default_factory=dict)
    """What ``os.environ`` held for each setting this host exported (None: nothing); put back
    when it stops."""
    refusals: OnceLog = field(default_factory=OnceLog)
    """Refused requests, logged at WARNING once per kind, then at INFO."""
    failures: OnceLog = field(default_factory=OnceLog)
    """Failed requests (5xx), logged at ERROR once per kind, then at INFO."""
    in_flight: InFlight = field(default_factory=InFlight)
    """Trigger invocations running now; stopping waits for them (.drain)."""
    rest_tokens: ReusedTokens = field(default_factory=ReusedTokens)
    """REST tokens of the signalR output, reused for a minute per audience (signing one per
    call was a tenth of the host's work for a chat message)."""
    _connections: dict[str, ConnectionString] = field(default_factory=dict)
    _signature_keys: list[str] | None = None

    @classmethod
    def load(cls, config: HostConfig) -> HostRuntime:
        """Index the app; raises IndexingError / ConfigError when the whole app is refused."""
        host_json = config.host_json or load_host_json(config.app_dir)
        indexed = load_functions(config.app_dir, config.script_file)
        try:
            return cls._build(config, host_json, indexed)
        except BaseException:
            indexed.imported.restore()
            raise

    @classmethod
    def _build(cls, config: HostConfig, host_json: HostJson, indexed: IndexedApp
               ) -> HostRuntime:
        found = register_functions(_selected(indexed.functions, config.functions),
                                   config.settings)
        return cls(config=config, host_json=host_json, functions=found.functions,
                   route_prefix=host_json.route_prefix,
                   http_routes=found.http_routes, triggers=found.triggers,
                   imported=indexed.imported,
                   invoker=Invoker(str(config.app_dir), _thread_count(config.settings)),
                   function_errors=[*indexed.errors, *found.errors], timers=found.timers)

    def connection(self, setting: str) -> ConnectionString:
        """The SignalR connection string of an app setting, parsed once (the settings do not
        change while this runtime serves); errors are raised each time, never kept."""
        conn = self._connections.get(setting)
        if conn is None:
            conn = self._connections[setting] = connection_string_from(self.config.settings,
                                                                       setting)
        return conn

    def signature_keys(self) -> list[str]:
        """Access keys of every SignalR connection the app uses (SR SignatureValidationOptions).

        Empty (validation off) when one of them has no AccessKey (identity-based connection).
        Worked out once: the settings do not change while this runtime serves.
        """
        if self._signature_keys is None:
            self._signature_keys = self._find_signature_keys()
        return self._signature_keys

    def _find_signature_keys(self) -> list[str]:
        names = {DEFAULT_CONNECTION_SETTING} | {
            connection_setting_name(b) for f in self.functions for b in f.bindings
            if b.kind in ("signalrtrigger", "signalrconnectioninfo", "signalr")}
        keys: list[str] = []
        for name in sorted(names):
            text = self.config.settings.get(name) or self.config.settings.get(
                f"ConnectionStrings:{name}")
            if not text:
                continue
            try:
                parsed = parse_connection_string(text)
            except InvalidConnectionString:
                continue
            if not parsed.access_key:
                return []
            if parsed.access_key not in keys:
                keys.append(parsed.access_key)
        return keys

    def find_route(self, path: str, method: str) -> tuple[FunctionInfo, dict[str, str]] | None:
        """The function for ``path`` (under the route prefix) and ``method``, with values."""
        relative = path
        if self.route_prefix:
            head = "/" + self.route_prefix.lower()
            if not (path.lower() == head or path.lower().startswith(head + "/")):
                return None
            relative = path[len(head):]
        for route, info in self.http_routes:
            values = route.match(relative)
            if values is not None and (not info.methods or method.upper() in info.methods):
                return info, values
        return None

    async def resolve_inputs(self, info: FunctionInfo, data: Mapping[str, Any],
                             trigger_value: Any, extra: Mapping[str, Any] | None = None,
                             ) -> dict[str, Any]:
        """Values of every input binding; a binding expression error fails the invocation."""
        inputs: dict[str, Any] = {info.trigger.name: trigger_value}
        settings = self.config.settings
        for binding in info.bindings:
            if binding.direction != "in" or binding.is_trigger:
                continue
            if binding.kind == "signalrconnectioninfo":
                hub = resolve(str(binding.get("hubName") or ""), data, settings)
                user = binding.get("userId")
                user_id = resolve(str(user), data, settings) if user else None
                id_token = binding.get("idToken")
                claims = custom_claims(
                    resolve(str(id_token), data, settings) if id_token else None,
                    binding.get("claimTypeList"))
                conn = self.connection(connection_setting_name(binding))
                inputs[binding.name] = build_connection_info(conn, hub, now=time.time(),
                                                             user_id=user_id, claims=claims)
            elif extra and binding.name in extra:
                inputs[binding.name] = extra[binding.name]
            else:
                raise BindingError(f"Function '{info.name}': no value for input binding "
                                   f"'{binding.name}' ({binding.type})")
        return inputs

    async def send_outputs(self, info: FunctionInfo, outputs: Mapping[str, Any],
                           data: Mapping[str, Any]) -> None:
        """Send each ``signalR`` output in binding order; any failure fails the invocation."""
        for binding in info.bindings:
            value = outputs.get(binding.name)
            if binding.kind != "signalr" or value is None:
                continue
            hub = resolve(str(binding.get("hubName") or ""), data, self.config.settings)
            conn = self.connection(connection_setting_name(binding))
            assert conn.access_key is not None
            for call in build_rest_calls(conn, hub, value):
                token = self.rest_tokens.get(audience=call.audience, key=conn.access_key,
                                             now=time.time())
                headers = {"Authorization": f"Bearer {token}"}
                if call.body is not None:
                    headers["Content-Type"] = "application/json; charset=utf-8"
                if host_logger.isEnabledFor(logging.DEBUG):
                    host_logger.debug("> %s %s %s", call.method, printable(call.url),
                                      printable(shorten(call.body or b"")))
                assert self.http is not None, "the host app is not running"
                try:
                    # encoded=True: the path goes out byte for byte as the token's audience
                    # names it; yarl would otherwise decode %27, %3D... and the service would
                    # refuse the token (user ids like O'Brien).
                    answer = await self.http.request(call.method, URL(call.url, encoded=True),
                                                     call.body, headers, limit=REST_ANSWER_LIMIT,
                                                     timeout=REST_TIMEOUT)
                except (OSError, TimeoutError, ValueError) as exc:
                    raise OutputBindingError(f"signalR output '{binding.name}': cannot reach the "
                                             f"SignalR Service for {call.description} "
                                             f"({call.method} {call.url}): "
                                             f"{str(exc) or type(exc).__name__}") from exc
                status, text = answer.status, answer.body.decode(errors="replace")
                if not 200 <= status < 300:
                    raise OutputBindingError(
                        f"signalR output '{binding.name}': the SignalR Service answered {status} "
                        f"to {call.description} ({call.method} {call.url}): {shorten(text)}")
