"""Function keys, off by default like Core Tools, on with --enable-auth.

docs/functions-host.md, "Function keys".

The keys file is JSON::

    {"masterKey": "...",
     "functionKeys": {"default": "..."},             host keys: Function level for every function
     "systemKeys": {"signalr_extension": "...",      one per extension webhook
                    "durabletask_extension": "..."},
     "functions": {"<function name>": {"default": "..."}}}

A key is read from the ``x-functions-key`` header, else the ``code`` query (header wins). The
master key satisfies everything; a system key only the webhook of its name; a host or that
function's key satisfies FUNCTION. Pure apart from :func:`load_or_create_keys`.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError, InvalidFunctionKey

__all__ = ["DURABLE_SYSTEM_KEY", "SIGNALR_SYSTEM_KEY", "SYSTEM_KEYS", "KeyStore",
           "key_from_request", "load_or_create_keys"]

SIGNALR_SYSTEM_KEY = "signalr_extension"
DURABLE_SYSTEM_KEY = "durabletask_extension"
"""The Functions host names each extension's webhook key ``<extension>_extension``
(docs/functions-host.md, "Function keys")."""
SYSTEM_KEYS = (SIGNALR_SYSTEM_KEY, DURABLE_SYSTEM_KEY)


def _raw(text: str) -> bytes:
    """Bytes to compare; a header with non-UTF-8 bytes (kept as surrogates) simply never matches."""
    return text.encode("utf-8", "surrogatepass")


def _matches(offered: str, keys: Mapping[str, str]) -> bool:
    return any(hmac.compare_digest(_raw(offered), _raw(k)) for k in keys.values())


@dataclass(frozen=True)
class KeyStore:
    master_key: str
    function_keys: Mapping[str, str] = field(default_factory=dict)
    system_keys: Mapping[str, str] = field(default_factory=dict)
    per_function: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def is_master(self, offered: str | None) -> bool:
        return bool(offered) and hmac.compare_digest(_raw(str(offered)), _raw(self.master_key))

    def authorize_function(self, function: str, level: str, offered: str | None) -> None:
        """Raise InvalidFunctionKey unless ``offered`` satisfies ``level`` for ``function``."""
        level = level.lower()
        if level == "anonymous" or self.is_master(offered):
            return
        if offered and level == "function":
            own = {k.lower(): v for k, v in self.per_function.items()}.get(function.lower(), {})
            if _matches(offered, self.function_keys) or _matches(offered, own):
                return
        raise InvalidFunctionKey(f"a valid {level} key is required for function '{function}'")

    def authorize_system(self, name: str, offered: str | None) -> None:
        """The webhook of extension key ``name`` (e.g. ``signalr_extension``) or the master key."""
        if self.is_master(offered):
            return
        key = self.system_keys.get(name)
        if offered and key and hmac.compare_digest(_raw(offered), _raw(key)):
            return
        raise InvalidFunctionKey(f"the system key '{name}' or the master key is required")

    def to_json(self) -> str:
        return json.dumps({"masterKey": self.master_key, "functionKeys": dict(self.function_keys),
                           "systemKeys": dict(self.system_keys),
                           "functions": {k: dict(v) for k, v in self.per_function.items()}},
                          indent=2)

    @classmethod
    def from_json(cls, text: str, source: str = "keys file") -> KeyStore:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ConfigError(f"{source}: invalid JSON ({exc})") from None
        if not isinstance(data, dict) or not isinstance(data.get("masterKey"), str):
            raise ConfigError(f"{source}: masterKey (a string) is required")

        def strings(key: str) -> dict[str, str]:
            value = data.get(key) or {}
            if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
                raise ConfigError(f"{source}: {key} must be an object of strings")
            return dict(value)

        functions = data.get("functions") or {}
        if not isinstance(functions, dict) or not all(isinstance(v, dict)
                                                      for v in functions.values()):
            raise ConfigError(f"{source}: functions must map function names to key objects")
        return cls(master_key=data["masterKey"], function_keys=strings("functionKeys"),
                   system_keys=strings("systemKeys"),
                   per_function={k: {str(n): str(x) for n, x in v.items()}
                                 for k, v in functions.items()})


def key_from_request(headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    """``x-functions-key`` header, else ``code`` query (the header wins)."""
    return headers.get("x-functions-key") or query.get("code") or None


def load_or_create_keys(path: Path, new_key: Callable[[], str]) -> KeyStore:
    """Read the keys file; create it with fresh keys (mode 0600) when it does not exist. A
    system key the file lacks is created and saved, as the Functions host creates an
    extension's key the first time its webhook is needed."""
    if path.exists():
        store = KeyStore.from_json(path.read_text(encoding="utf-8"), str(path))
        missing = [name for name in SYSTEM_KEYS if name not in store.system_keys]
        if not missing:
            return store
        store = KeyStore(master_key=store.master_key, function_keys=store.function_keys,
                         system_keys={**store.system_keys, **{n: new_key() for n in missing}},
                         per_function=store.per_function)
    else:
        store = KeyStore(master_key=new_key(), function_keys={"default": new_key()},
                         system_keys={name: new_key() for name in SYSTEM_KEYS})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
    path.write_text(store.to_json(), encoding="utf-8")
    return store
