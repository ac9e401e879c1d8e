"""Configuration of the local Functions host, loaded once and passed down.

``local.settings.json`` is the file ``func start`` reads (Microsoft Learn,
https://learn.microsoft.com/azure/azure-functions/functions-develop-local#local-settings-file):
``IsEncrypted``,
``Values`` (strings) and ``Host`` {``LocalHttpPort``, ``CORS``, ``CORSCredentials``}. Precedence is
Core Tools': a ``Values`` key already set in the environment is skipped and the skip is logged
(Azure/azure-functions-core-tools ``StartHostAction.cs``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .log import host_logger

__all__ = [
    "BODY_SIZE_SETTING",
    "DEFAULT_MAX_REQUEST_BODY",
    "DEFAULT_SCRIPT_FILE",
    "HostConfig",
    "HostJson",
    "HostSection",
    "load_host_json",
    "load_local_settings",
    "merge_settings",
    "script_file_from_settings",
]

DEFAULT_SCRIPT_FILE = "function_app.py"
BODY_SIZE_SETTING = "FUNCTIONS_REQUEST_BODY_SIZE_LIMIT"
"""The Functions host's setting for its request size limit (docs/functions-host.md, "Limits")."""
DEFAULT_MAX_REQUEST_BODY = 104_857_600
_SCRIPT_FILE = re.compile(r"^[a-zA-Z0-9_][a-zA-Z0-9_\-]*\.py$")


@dataclass(frozen=True)
class HostSection:
    """The ``Host`` section of local.settings.json."""

    local_http_port: int | None = None
    cors_origins: tuple[str, ...] = ()
    cors_credentials: bool = False


@dataclass(frozen=True)
class HostConfig:
    """Everything the host needs; ``settings`` are already resolved (Values merged with env)."""

    app_dir: Path
    settings: Mapping[str, str] = field(default_factory=dict)
    script_file: str = ""
    cors_origins: tuple[str, ...] = ()
    cors_credentials: bool = False
    enable_auth: bool = False
    keys_file: Path | None = None
    data_dir: Path | None = None
    public_url: str | None = None
    """The host's own URL for the startup table (e.g. ``http://localhost:7071``)."""
    host_json: HostJson | None = None
    """The app's host.json when the caller has read it; else the host reads it at start."""
    functions: tuple[str, ...] = ()
    """Run only these functions (Core Tools' ``--functions``); empty: every function."""
    max_request_body: int | None = None
    """Bytes a request body may have; None: ``FUNCTIONS_REQUEST_BODY_SIZE_LIMIT``, else 100 MiB
    (the Functions host's default). Larger bodies get 413."""
    body_timeout: float = 30.0
    """Seconds a client has to send a request body; a slower one gets 408 and is closed."""
    store_busy_timeout: float = 5.0
    """Seconds a durable store write waits for a lock another process holds, then fails."""
    queue_polling: bool = False
    """Durable work waits for the next poll of an Azure Storage task hub's queues (up to
    ``maxQueuePollingInterval`` after idle) instead of running at once."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "app_dir", Path(self.app_dir).resolve())
        for name in ("keys_file", "data_dir"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, Path(value))
        object.__setattr__(self, "settings", dict(self.settings))
        object.__setattr__(self, "cors_origins", tuple(self.cors_origins))
        object.__setattr__(self, "functions", tuple(self.functions))
        if not self.script_file:
            object.__setattr__(self, "script_file", script_file_from_settings(self.settings))
        elif not _SCRIPT_FILE.match(self.script_file):
            raise ConfigError(
                f"script file {self.script_file!r} must match {_SCRIPT_FILE.pattern}"
            )

    @property
    def resolved_max_request_body(self) -> int:
        """``max_request_body``, else ``FUNCTIONS_REQUEST_BODY_SIZE_LIMIT``, else 100 MiB."""
        if self.max_request_body is not None:
            return self.max_request_body
        text = self.settings.get(BODY_SIZE_SETTING, "").strip()
        if not text:
            return DEFAULT_MAX_REQUEST_BODY
        if not text.isdigit() or int(text) <= 0:
            raise ConfigError(f"{BODY_SIZE_SETTING} must be a positive number of bytes, "
                              f"got {text!r}")
        return int(text)

    @property
    def resolved_keys_file(self) -> Path:
        """The keys file: as given, else ``<data dir>/host_keys.json``."""
        return self.keys_file or self.resolved_data_dir / "host_keys.json"

    @property
    def resolved_data_dir(self) -> Path:
        """Where entity state and generated keys live: as given, else ``<app dir>/.emulator``."""
        return self.data_dir or self.app_dir / ".emulator"


def script_file_from_settings(settings: Mapping[str, str]) -> str:
    """``PYTHON_SCRIPT_FILE_NAME`` or ``function_app.py``, checked like the worker does
    (Azure/azure-functions-python-worker ``loader.py``)."""
    name = settings.get("PYTHON_SCRIPT_FILE_NAME") or DEFAULT_SCRIPT_FILE
    if not _SCRIPT_FILE.match(name):
        raise ConfigError(
            f"PYTHON_SCRIPT_FILE_NAME={name!r} is invalid: it must match {_SCRIPT_FILE.pattern}"
        )
    return name


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: invalid JSON at line {exc.lineno}: {exc.msg}") from exc


def _as_bool(path: Path, key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ConfigError(f"{path}: {key} must be true or false, got {value!r}")


def load_local_settings(path: Path) -> tuple[dict[str, str], HostSection]:
    """Read ``Values`` and ``Host`` from a local.settings.json; a missing file gives empty ones."""
    path = Path(path)
    if not path.exists():
        return {}, HostSection()
    data = _read_json(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a JSON object")
    if _as_bool(path, "IsEncrypted", data.get("IsEncrypted", False)):
        raise ConfigError(f"{path}: IsEncrypted is true; encrypted settings are not supported")
    raw_values = data.get("Values") or {}
    if not isinstance(raw_values, dict):
        raise ConfigError(f"{path}: Values must be an object of strings")
    values: dict[str, str] = {}
    for key, value in raw_values.items():
        if isinstance(value, bool):
            values[key] = "true" if value else "false"
        elif isinstance(value, (str, int, float)):
            values[key] = str(value)
        elif value is not None:
            raise ConfigError(f"{path}: Values.{key} must be a string, got {type(value).__name__}")
    host = data.get("Host") or {}
    if not isinstance(host, dict):
        raise ConfigError(f"{path}: Host must be an object")
    port = host.get("LocalHttpPort")
    if port is not None:
        try:
            port = int(port)
        except (TypeError, ValueError):
            raise ConfigError(
                f"{path}: Host.LocalHttpPort must be an integer, got {port!r}") from None
    cors = host.get("CORS") or ""
    if not isinstance(cors, str):
        raise ConfigError(f"{path}: Host.CORS must be a comma-separated string")
    origins = tuple(o.strip().rstrip("/") for o in cors.split(",") if o.strip())
    credentials = _as_bool(path, "Host.CORSCredentials", host.get("CORSCredentials", False))
    return values, HostSection(port, origins, credentials)


def merge_settings(values: Mapping[str, str], environ: Mapping[str, str]) -> dict[str, str]:
    """Values under the environment: an environment variable wins and each skip is logged."""
    merged = dict(environ)
    for key, value in values.items():
        if key in environ:
            host_logger.info(
                "Skipping '%s' from local settings as it's already defined in current "
                "environment variables.", key,
            )
            continue
        merged[key] = value
    return merged


@dataclass(frozen=True)
class HostJson:
    """What the host uses of the app's ``host.json``, read once when it starts."""

    found: bool = False
    route_prefix: str = "api"
    """``extensions.http.routePrefix`` (may be ""), default ``api``
    (docs/functions-host.md, "HTTP trigger")."""
    durable_task: Mapping[str, Any] = field(default_factory=dict)
    """``extensions.durableTask`` (docs/durable.md)."""

    @classmethod
    def from_json(cls, data: Any, source: str = "host.json") -> HostJson:
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: the top level must be a JSON object")
        extensions = data.get("extensions") or {}
        if not isinstance(extensions, dict):
            raise ConfigError(f"{source}: extensions must be an object")
        http = extensions.get("http") or {}
        prefix = http.get("routePrefix", "api") if isinstance(http, dict) else "api"
        if not isinstance(prefix, str):
            raise ConfigError(
                f"{source}: extensions.http.routePrefix must be a string, got {prefix!r}")
        durable = extensions.get("durableTask") or {}
        return cls(found=True, route_prefix=prefix.strip("/"),
                   durable_task=durable if isinstance(durable, dict) else {})


def load_host_json(app_dir: Path) -> HostJson:
    """The app's host.json; the defaults, with a note in the log, when there is none."""
    path = Path(app_dir) / "host.json"
    if not path.exists():
        # The Functions host writes a default host.json here (HostJsonFileConfiguration-
        # Source, "No host configuration file found"); this host only uses the defaults.
        host_logger.info("No host configuration file found in %s. Using the defaults "
                         "(version 2.0, route prefix 'api').", app_dir)
        return HostJson()
    return HostJson.from_json(_read_json(path), str(path))
