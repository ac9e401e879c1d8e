"""One loader for the whole offline stack: files, environment and flags become a frozen
:class:`StackConfig`, from which both servers' configurations are made.

Precedence, lowest first: defaults in code < ``local.settings.json`` (``Values`` and ``Host``;
``local.settings.json.example`` when there is none) < environment < command-line flags.
As Core Tools does, a ``Values`` key already set in the environment is skipped, and said so
(Azure/azure-functions-core-tools ``StartHostAction.cs``). Nothing reads ``os.environ`` or a
settings file after this.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from .contracts import ConnectionString, parse_connection_string
from .errors import ConfigError, InvalidConnectionString
from .functions.config import (
    HostConfig,
    HostJson,
    HostSection,
    load_host_json,
    load_local_settings,
    merge_settings,
)
from .serve import page_origins
from .signalr.config import (
    DEFAULT_ACCESS_KEY,
    ServiceConfig,
    UpstreamTemplate,
    load_settings,
)

__all__ = [
    "CONNECTION_SETTING",
    "ConfigError",
    "StackConfig",
    "load_stack_config",
    "reread_app_files",
    "with_service_port",
]

log = logging.getLogger("emulator")

CONNECTION_SETTING = "AzureSignalRConnectionString"
DEFAULT_SERVICE_PORT = 8888
DEFAULT_HOST_PORT = 7071
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
WEBHOOK_PATH = "/runtime/webhooks/signalr"


@dataclass(frozen=True)
class StackConfig:
    app_dir: Path
    bind: str
    """Address both servers listen on; ``localhost`` covers IPv4 and IPv6."""
    service_port: int
    host_port: int
    settings: Mapping[str, str]
    """App settings as the app sees them: ``Values`` overlaid by the environment."""
    host_section: HostSection
    host_json: HostJson
    connection_string: ConnectionString
    settings_file: Path | None
    run_service: bool
    """False when the connection string names a real Azure SignalR Service."""
    upstream: tuple[UpstreamTemplate, ...] = ()
    """The service's upstream rules from a settings.json; empty: every event to this host."""
    service_settings_file: Path | None = None
    data_dir: Path | None = None
    enable_auth: bool = False
    allow_origins: tuple[str, ...] = ()
    """More origins whose pages may use the service (``--allow-origin``)."""
    functions: tuple[str, ...] = ()
    """Run only these functions (``--functions``); empty: all of them."""
    reload: bool = True
    """Restart the host when the app's files change."""
    queue_polling: bool = False
    """Durable work is picked up as late as an idle Azure Storage task hub would."""

    @property
    def access_keys(self) -> tuple[str, ...]:
        key = self.connection_string.access_key
        return (key,) if key else ()

    def host_config(self, public_url: str) -> HostConfig:
        """The Functions host's configuration, once its URL is known."""
        return HostConfig(
            app_dir=self.app_dir, settings=self.settings,
            cors_origins=self.host_section.cors_origins,
            cors_credentials=self.host_section.cors_credentials,
            enable_auth=self.enable_auth, data_dir=self.data_dir, public_url=public_url,
            host_json=self.host_json, functions=self.functions,
            queue_polling=self.queue_polling,
        )

    def service_config(self, *, webhook: str, host_port: int) -> ServiceConfig:
        """The local SignalR Service's configuration: its key, the upstream to the host's
        webhook (or the settings file's rules), the pages that may use it."""
        return ServiceConfig(
            access_keys=self.access_keys,
            upstream=self.upstream or (UpstreamTemplate(url_template=webhook),),
            allowed_origins=(*page_origins(self.bind, host_port),
                             *self.host_section.cors_origins, *self.allow_origins),
            host=self.bind, port=self.service_port,
        )


def _connection_text(connection: ConnectionString) -> str:
    parts = urlsplit(connection.endpoint)
    host = parts.hostname or "localhost"
    netloc = f"[{host}]" if ":" in host else host
    return (
        f"Endpoint={parts.scheme}://{netloc};Port={connection.port};"
        f"AccessKey={connection.access_key};Version={connection.version or '1.0'};"
    )


def reread_app_files(config: StackConfig, environ: Mapping[str, str] | None = None
                     ) -> StackConfig:
    """The configuration after the app's files changed: ``Values`` and ``host.json`` read
    again. The ports, the ``Host`` section and the connection string stay as they are: the
    service keeps running with its key (changing those needs a new start)."""
    environ = os.environ if environ is None else environ
    settings_file = config.settings_file
    chosen_by_default = settings_file is None or (
        settings_file.parent == config.app_dir and settings_file.name in _SETTINGS_FILES)
    if chosen_by_default:  # not --settings: the app's own file, found as at the start
        settings_file = _settings_file(config.app_dir, None)
    values: dict[str, str] = {}
    if settings_file is not None and settings_file.is_file():
        values, _ = load_local_settings(settings_file)
    settings = merge_settings(values, environ)
    if _connection_changed(settings.get(CONNECTION_SETTING), config.connection_string):
        log.warning("%s changed: both servers keep the one they started with; stop and start "
                    "again to use the new one", CONNECTION_SETTING)
    settings[CONNECTION_SETTING] = config.settings[CONNECTION_SETTING]
    return replace(config, settings=settings, settings_file=settings_file,
                   host_json=load_host_json(config.app_dir))


def _connection_changed(raw: str | None, running: ConnectionString) -> bool:
    """Whether the file now names another key or service (the port may differ: the running
    stack's is the one it bound; ``localhost`` and ``127.0.0.1`` are both this machine)."""
    if not raw:
        return False
    try:
        new = parse_connection_string(raw)
    except InvalidConnectionString:
        return True
    same_host = new.host == running.host or {new.host, running.host} <= LOCAL_HOSTS
    return new.access_key != running.access_key or not same_host


def with_service_port(config: StackConfig, port: int) -> StackConfig:
    """The configuration once the local service's real port is known (after binding)."""
    host = "localhost" if config.bind in ("", "localhost", "0.0.0.0", "::") else config.bind
    netloc = f"[{host}]" if ":" in host else host
    scheme = urlsplit(config.connection_string.endpoint).scheme
    connection = replace(
        config.connection_string,
        endpoint=f"{scheme}://{netloc}:{port}",
        client_endpoint=None,
        server_endpoint=None,
    )
    settings = {**config.settings, CONNECTION_SETTING: _connection_text(connection)}
    return replace(config, service_port=port, connection_string=connection, settings=settings)


_SETTINGS_FILES = ("local.settings.json", "local.settings.json.example")


def _settings_file(app_dir: Path, given: Path | None) -> Path | None:
    if given is not None:
        return given
    for name in _SETTINGS_FILES:
        if (app_dir / name).is_file():
            return app_dir / name
    return None


def load_stack_config(
    *,
    app_dir: Path,
    bind: str = "localhost",
    service_port: int | None = None,
    host_port: int | None = None,
    settings_file: Path | None = None,
    service_settings_file: Path | None = None,
    data_dir: Path | None = None,
    enable_auth: bool = False,
    cors: str | None = None,
    cors_credentials: bool | None = None,
    allow_origins: Sequence[str] = (),
    functions: Sequence[str] = (),
    reload: bool = True,
    queue_polling: bool = False,
    environ: Mapping[str, str] | None = None,
) -> StackConfig:
    """Read the settings of the app in ``app_dir`` and decide where both servers listen."""
    environ = os.environ if environ is None else environ
    app_dir = app_dir.resolve()
    settings_file = _settings_file(app_dir, settings_file)
    values: dict[str, str] = {}
    host_section = HostSection()
    if settings_file is not None:
        values, host_section = load_local_settings(settings_file)
        log.info("Settings from %s", settings_file)
    if cors is not None:  # func start's --cors replaces Host.CORS
        host_section = replace(host_section, cors_origins=tuple(
            o.strip().rstrip("/") for o in cors.split(",") if o.strip()))
    if cors_credentials is not None:
        host_section = replace(host_section, cors_credentials=cors_credentials)
    settings = merge_settings(values, environ)
    # A missing host.json runs with the defaults (the host says so); a folder with neither it
    # nor the script is not an app folder.
    script = settings.get("PYTHON_SCRIPT_FILE_NAME") or "function_app.py"
    if not (app_dir / "host.json").is_file() and not (app_dir / script).is_file():
        raise ConfigError(f"{app_dir}: no host.json or {script} here; run it in the app's "
                          f"folder or pass --app-dir")
    raw = settings.get(CONNECTION_SETTING)
    if not raw:
        raw = (
            f"Endpoint=http://localhost;Port={DEFAULT_SERVICE_PORT};"
            f"AccessKey={DEFAULT_ACCESS_KEY};Version=1.0;"
        )
        log.info("No %s: the local service uses its well-known development key", CONNECTION_SETTING)
    try:
        connection = parse_connection_string(raw)
    except InvalidConnectionString as error:
        where = settings_file or "the environment"
        raise ConfigError(f"{where}: {CONNECTION_SETTING} is invalid: {error}") from None

    # A loopback endpoint means "run the service here"; anything else is a real Azure service.
    run_service = connection.host in LOCAL_HOSTS
    if run_service and not connection.access_key:
        raise ConfigError(f"{CONNECTION_SETTING}: the local service needs an AccessKey")
    if service_settings_file is None and (app_dir / "settings.json").is_file():
        service_settings_file = app_dir / "settings.json"
    upstream = load_settings(service_settings_file) if service_settings_file else ()
    config = StackConfig(
        app_dir=app_dir,
        bind=bind,
        service_port=connection.port if service_port is None else service_port,
        host_port=(host_section.local_http_port or DEFAULT_HOST_PORT
                   if host_port is None else host_port),
        settings={**settings, CONNECTION_SETTING: raw},
        host_section=host_section,
        host_json=load_host_json(app_dir),
        connection_string=connection,
        settings_file=settings_file,
        run_service=run_service,
        upstream=upstream,
        service_settings_file=service_settings_file,
        data_dir=data_dir.resolve() if data_dir else None,
        enable_auth=enable_auth,
        allow_origins=tuple(allow_origins),
        functions=tuple(functions),
        reload=reload,
        queue_polling=queue_polling,
    )
    return with_service_port(config, config.service_port) if run_service else config
