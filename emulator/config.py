"""One loader for the whole offline stack.

Precedence, lowest first: defaults in code < ``local.settings.json`` (``Values`` and ``Host``;
``local.settings.json.example`` when there is none) < environment < command-line flags.
As Core Tools does, a ``Values`` key already set in the environment is skipped, and said so.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from .contracts import ConnectionString, parse_connection_string
from .errors import ConfigError, InvalidConnectionString
from .functions.config import HostSection, load_local_settings, merge_settings
from .signalr.config import DEFAULT_ACCESS_KEY

__all__ = [
    "CONNECTION_SETTING",
    "ConfigError",
    "StackConfig",
    "load_stack_config",
    "with_service_port",
]

log = logging.getLogger("emulator")

CONNECTION_SETTING = "AzureSignalRConnectionString"
DEFAULT_SERVICE_PORT = 8888
DEFAULT_HOST_PORT = 7071
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


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
    connection_string: ConnectionString
    settings_file: Path | None
    run_service: bool
    """False when the connection string names a real Azure SignalR Service."""
    service_settings_file: Path | None = None
    data_dir: Path | None = None
    enable_auth: bool = False

    @property
    def access_keys(self) -> tuple[str, ...]:
        key = self.connection_string.access_key
        return (key,) if key else ()


def _connection_text(connection: ConnectionString) -> str:
    parts = urlsplit(connection.endpoint)
    host = parts.hostname or "localhost"
    netloc = f"[{host}]" if ":" in host else host
    return (
        f"Endpoint={parts.scheme}://{netloc};Port={connection.port};"
        f"AccessKey={connection.access_key};Version={connection.version or '1.0'};"
    )


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
    environ: Mapping[str, str] | None = None,
) -> StackConfig:
    """Read the settings of the app in ``app_dir`` and decide where both servers listen."""
    environ = os.environ if environ is None else environ
    app_dir = app_dir.resolve()
    if settings_file is None:
        for name in ("local.settings.json", "local.settings.json.example"):
            if (app_dir / name).is_file():
                settings_file = app_dir / name
                break
    values: dict[str, str] = {}
    host_section = HostSection()
    if settings_file is not None:
        values, host_section = load_local_settings(settings_file)
        log.info("Settings from %s", settings_file)
    settings = merge_settings(values, environ)
    # A missing host.json runs with the defaults (the host says so); a folder with neither it
    # nor the script is not an app folder.
    script = settings.get("PYTHON_SCRIPT_FILE_NAME") or "function_app.py"
    if not (app_dir / "host.json").is_file() and not (app_dir / script).is_file():
        raise ConfigError(f"{app_dir}: no host.json or {script} here; pass --app-dir with the "
                          f"app's folder")
    raw = settings.get(CONNECTION_SETTING) or environ.get(CONNECTION_SETTING)
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
    config = StackConfig(
        app_dir=app_dir,
        bind=bind,
        service_port=connection.port if service_port is None else service_port,
        host_port=host_section.local_http_port or DEFAULT_HOST_PORT
        if host_port is None
        else host_port,
        settings={**settings, CONNECTION_SETTING: raw},
        host_section=host_section,
        connection_string=connection,
        settings_file=settings_file,
        run_service=run_service,
        service_settings_file=service_settings_file,
        data_dir=data_dir.resolve() if data_dir else None,
        enable_auth=enable_auth,
    )
    return with_service_port(config, config.service_port) if run_service else config
