"""Which Durable HTTP API operation a request names, pure (HttpApiHandler.HandleRequestAsync).

Templates, tried in this order on the path after ``/runtime/webhooks/durabletask``:
``orchestrators/{functionName}/{instanceId?}``, ``entities/{entityName?}/{entityKey?}``,
``instances/{instanceId?}/{operation?}``, ``instances/{instanceId}/raiseEvent/{eventName}``.
Anything else, or a method a template does not take, is 404. Query values are read as .NET
does: ``bool.TryParse`` (case-insensitive ``true``/``false``), ``int.TryParse``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from urllib.parse import unquote

__all__ = ["ApiOperation", "ApiRoute", "match_api_route", "query_bool", "query_int",
           "query_time"]


class ApiOperation(Enum):
    START = "start"
    ENTITY_READ = "entity-read"
    ENTITY_LIST = "entity-list"
    ENTITY_SIGNAL = "entity-signal"
    INSTANCE_LIST = "instance-list"
    INSTANCE_PURGE_MANY = "instance-purge-many"
    STATUS = "status"
    PURGE = "purge"
    TERMINATE = "terminate"
    SUSPEND = "suspend"
    RESUME = "resume"
    RESTART = "restart"
    REWIND = "rewind"
    RAISE_EVENT = "raise-event"
    NOT_FOUND = "not-found"


@dataclass(frozen=True)
class ApiRoute:
    operation: ApiOperation
    name: str = ""
    """Function, entity or event name."""
    key: str = ""
    """Instance id or entity key."""


_INSTANCE_POSTS = {"terminate": ApiOperation.TERMINATE, "rewind": ApiOperation.REWIND,
                   "restart": ApiOperation.RESTART, "suspend": ApiOperation.SUSPEND,
                   "resume": ApiOperation.RESUME}


def match_api_route(method: str, path: str) -> ApiRoute:
    """The operation for ``method`` on ``path`` (relative to the API's base, encoded or not)."""
    parts = [unquote(p) for p in path.strip("/").split("/")] if path.strip("/") else []
    method = method.upper()
    head, rest = (parts[0].lower(), parts[1:]) if parts else ("", [])
    not_found = ApiRoute(ApiOperation.NOT_FOUND)
    if head == "orchestrators" and 1 <= len(rest) <= 2 and rest[0]:
        if method != "POST":
            return not_found
        return ApiRoute(ApiOperation.START, rest[0], rest[1] if len(rest) == 2 else "")
    if head == "entities" and len(rest) <= 2:
        name = rest[0] if rest else ""
        key = rest[1] if len(rest) == 2 else ""
        if method == "GET":
            return ApiRoute(ApiOperation.ENTITY_READ if key else ApiOperation.ENTITY_LIST,
                            name, key)
        if method in ("POST", "DELETE"):
            return ApiRoute(ApiOperation.ENTITY_SIGNAL, name, key)
        return not_found
    if head == "instances" and len(rest) <= 2:
        instance = rest[0] if rest else ""
        operation = rest[1] if len(rest) == 2 else ""
        if not instance:
            return {"GET": ApiRoute(ApiOperation.INSTANCE_LIST),
                    "DELETE": ApiRoute(ApiOperation.INSTANCE_PURGE_MANY)}.get(method, not_found)
        if not operation:
            if method == "GET":
                return ApiRoute(ApiOperation.STATUS, key=instance)
            return ApiRoute(ApiOperation.PURGE, key=instance) if method == "DELETE" else not_found
        if method == "POST" and operation.lower() in _INSTANCE_POSTS:
            return ApiRoute(_INSTANCE_POSTS[operation.lower()], key=instance)
        return not_found
    if (head == "instances" and len(rest) == 3 and rest[1].lower() == "raiseevent"
            and rest[2]):
        if method != "POST":
            return not_found
        return ApiRoute(ApiOperation.RAISE_EVENT, rest[2], rest[0])
    return not_found


def query_bool(query: Mapping[str, str], name: str, default: bool) -> bool:
    """``bool.TryParse``: ``true``/``false`` in any case, else ``default``."""
    value = (query.get(name) or "").strip().lower()
    return {"true": True, "false": False}.get(value, default)


def query_int(query: Mapping[str, str], name: str) -> int | None:
    value = (query.get(name) or "").strip()
    try:
        return int(value)
    except ValueError:
        return None


def query_time(query: Mapping[str, str], name: str) -> datetime | None:
    """A ``DateTime.TryParse``-able value (ISO 8601 here); a time without a zone is UTC."""
    value = (query.get(name) or "").strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace(" ", "+"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
