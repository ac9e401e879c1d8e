"""Functions still running when the host stops: each holds until a file named after it
appears in the folder ``HOLD_DIR`` (the test writes it), then signals an entity through the
host's Durable HTTP API, as the chat's functions do."""

import asyncio
import os
import time
from pathlib import Path

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)
COUNTER = df.EntityId("Counter", "done")


def _released(name: str) -> bool:
    return (Path(os.environ["HOLD_DIR"]) / name).exists()


async def _hold(name: str) -> None:
    while not _released(name):
        await asyncio.sleep(0.02)


@app.entity_trigger(context_name="context")
def Counter(context: df.DurableEntityContext) -> None:
    context.set_state(context.get_state(lambda: 0) + 1)


@app.route(route="hold")
@app.durable_client_input(client_name="client")
async def hold(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    await _hold("hold")
    await client.signal_entity(COUNTER, "add")
    return func.HttpResponse("signalled")


@app.timer_trigger(arg_name="timer", schedule="%HOLD_TIMER_SCHEDULE%")
@app.durable_client_input(client_name="client")
async def hold_timer(timer: func.TimerRequest, client: df.DurableOrchestrationClient) -> None:
    await _hold("hold_timer")
    await client.signal_entity(COUNTER, "add")


@app.route(route="hold_sync")
def hold_sync(req: func.HttpRequest) -> func.HttpResponse:
    while not _released("hold_sync"):
        time.sleep(0.02)
    return func.HttpResponse("released")


@app.route(route="count")
@app.durable_client_input(client_name="client")
async def count(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    state = await client.read_entity_state(COUNTER)
    return func.HttpResponse(str(state.entity_state if state.entity_exists else 0))
