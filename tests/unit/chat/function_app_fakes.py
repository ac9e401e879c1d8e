"""Stand-ins for what the Python worker, the Durable extension and the service give the app.

``Out`` is the worker's output holder. ``FakeDurableClient`` queues signals and runs them through
the app's real entity functions with the host's batch JSON (double-encoded inputs, as the
Durable extension sends them), and only on a later read, so reads see committed state only.
``FakeService`` stands for the SignalR Service's REST API as ``chat_io.rest.Service`` uses it:
which connections exist, and what was sent.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import azure.durable_functions as df
import azure.functions as func
from azure.durable_functions.models.EntityStateResponse import EntityStateResponse

import function_app
from chat.outputs import encode_item

__all__ = ["ENTITIES", "FakeDurableClient", "FakeService", "Out", "invocation"]

ENTITIES = {"chatroom": function_app.chat_room, "presence": function_app.presence_entity,
            "roster": function_app.roster_entity, "group": function_app.group_entity}


class Out(func.Out[str]):
    """A concrete output holder, like the worker's."""

    def __init__(self) -> None:
        self.value: str | None = None

    def set(self, val: str) -> None:
        self.value = val

    def get(self) -> str:
        assert self.value is not None
        return self.value

    def items(self) -> list[dict[str, Any]]:
        return json.loads(self.value) if self.value is not None else []


class FakeDurableClient:
    """Signals are queued; they run (through the entity functions) on a read after ``lag``
    reads, so a function that does not wait for its change would see stale state."""

    def __init__(self, lag: int = 0) -> None:
        self.records: dict[tuple[str, str], tuple[bool, str | None]] = {}
        self.pending: list[tuple[df.EntityId, str, Any]] = []
        self.signals: list[tuple[str, str, Any]] = []
        self.lag = lag
        self._reads_until_run = lag

    async def signal_entity(self, entity: df.EntityId, operation: str, data: Any = None) -> None:
        self.pending.append((entity, operation, data))
        self.signals.append((entity.name, operation, data))
        self._reads_until_run = self.lag

    async def read_entity_state(self, entity: df.EntityId) -> EntityStateResponse:
        if self._reads_until_run <= 0:
            self.run_pending()
        self._reads_until_run -= 1
        exists, state = self.records.get((entity.name.lower(), entity.key), (False, None))
        if not exists:
            return EntityStateResponse(False)
        return EntityStateResponse(True, json.loads(state or "null"))

    def run_pending(self) -> None:
        pending, self.pending = self.pending, []
        for entity, operation, data in pending:
            name = entity.name.lower()
            exists, state = self.records.get((name, entity.key), (False, None))
            batch = json.dumps({
                "self": {"name": name, "key": entity.key}, "exists": exists, "state": state,
                "batch": [{"name": operation, "input": json.dumps(json.dumps(data)),
                           "isSignal": True}],
            })
            result = json.loads(ENTITIES[name](batch))
            assert not any(r["isError"] for r in result["results"]), result
            self.records[(name, entity.key)] = (result["entityExists"], result["entityState"])

    def state(self, name: str, key: str) -> Any:
        self.run_pending()
        record = self.records.get((name.lower(), key))
        return json.loads(record[1] or "null") if record else None

    def operations(self, name: str) -> list[str]:
        return [op for entity, op, _ in self.signals if entity == name]


class FakeService:
    """The service as the app's REST client sees it: ``online`` maps connection id to user."""

    def __init__(self, *, usable: bool = True) -> None:
        self.usable = usable
        self.online: dict[str, str | None] = {}
        self.sent: list[dict[str, Any]] = []
        self.closed: list[tuple[str, str]] = []
        self.refusing = False

    async def connection_exists(self, connection_id: str) -> bool | None:
        return connection_id in self.online if self.usable else None

    async def user_exists(self, user: str) -> bool | None:
        return user in self.online.values() if self.usable else None

    async def alive(self, connection_ids: Sequence[str]) -> dict[str, bool]:
        if not self.usable:
            return {}
        return {cid: cid in self.online for cid in connection_ids}

    async def send_each(self, items: Sequence[dict[str, Any]]) -> bool:
        """Records what was sent; with ``refusing`` set, the service refuses (nothing is sent)."""
        assert self.usable
        if self.refusing:
            return not items
        self.sent += [json.loads(encode_item(item)) for item in items]
        return True

    async def close(self, connection_id: str, reason: str) -> None:
        self.closed.append((connection_id, reason))

    def targets(self, connection_id: str | None = None) -> list[str]:
        return [item["target"] for item in self.sent if "target" in item
                and (connection_id is None or item.get("connectionId") == connection_id)]


def invocation(event: str, *arguments: Any, user: str | None = "ada", cid: str = "c-ada",
               headers: dict[str, str] | None = None, category: str = "messages") -> str:
    """InvocationContext JSON as the host hands it over."""
    return json.dumps({
        "Arguments": list(arguments) if category == "messages" else None,
        "Error": None,
        "Category": category,
        "Event": event,
        "Hub": "chat",
        "ConnectionId": cid,
        "UserId": user,
        "Headers": headers or {},
        "Query": {},
        "Claims": {},
    })
