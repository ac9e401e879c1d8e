"""Stand-ins for what the Python worker and the Durable extension hand to function_app.py.

``Out`` is the worker's output holder; ``FakeDurableClient`` queues signals and runs them
through the app's real entity functions with the host's batch JSON (durable-python.md §2.2,
double-encoded inputs), and only on a later read, so reads see committed state only.
"""

from __future__ import annotations

import json
from typing import Any

import azure.durable_functions as df
import azure.functions as func
from azure.durable_functions.models.EntityStateResponse import EntityStateResponse

import function_app

__all__ = ["ENTITIES", "FakeDurableClient", "Out", "invocation"]

ENTITIES = {"chatroom": function_app.chat_room, "presence": function_app.presence_entity}


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
    """Signals are queued; they run (in batches, through the entity functions) on a read after
    ``lag`` reads, so a function that does not wait for its change would see stale state."""

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
        return json.loads(self.records[(name.lower(), key)][1] or "null")


def invocation(event: str, *arguments: Any, user: str | None = "ada", cid: str = "c-ada",
               headers: dict[str, str] | None = None, category: str = "messages") -> str:
    """InvocationContext JSON as the host hands it over (functions-python.md §4.2)."""
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
