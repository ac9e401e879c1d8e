"""One app for the rest of the Durable API: continue-as-new, entities from orchestrations, custom
status, termination, and the mistakes Azure reports (non-deterministic code, unknown functions)."""

import json
import time

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)

REPLAYS = {"count": 0}


@app.route(route="start/{name}/{instanceId?}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def start(req: func.HttpRequest, client) -> func.HttpResponse:
    payload = req.get_json() if req.get_body() else None
    instance_id = await client.start_new(req.route_params["name"],
                                         req.route_params.get("instanceId"), payload)
    return client.create_check_status_response(req, instance_id)


@app.route(route="manage/{op}/{instanceId}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def manage(req: func.HttpRequest, client) -> func.HttpResponse:
    """What people do with the client: status with history, events, termination, purge."""
    op, instance_id = req.route_params["op"], req.route_params["instanceId"]
    body = None
    if op == "status":
        status = await client.get_status(instance_id, show_history=True,
                                         show_history_output=True)
        body = status.to_json() if status else None
        if body is not None:
            body["historyEvents"] = status.historyEvents
    elif op == "raise":
        await client.raise_event(instance_id, "go", req.get_json())
    elif op == "terminate":
        await client.terminate(instance_id, "no longer needed")
    elif op == "purge":
        body = (await client.purge_instance_history(instance_id)).instances_deleted
    elif op == "list":
        found = await client.get_status_by(
            runtime_status=[df.OrchestrationRuntimeStatus.Completed])
        body = sorted(s.instance_id for s in found)
    elif op == "wait":
        return await client.wait_for_completion_or_create_check_status_response(
            req, instance_id, timeout_in_milliseconds=5000, retry_interval_in_milliseconds=50)
    elif op == "entity":
        state = await client.read_entity_state(df.EntityId("Tally", instance_id))
        body = state.entity_state if state.entity_exists else None
    return func.HttpResponse(json.dumps(body, default=str), mimetype="application/json")


@app.orchestration_trigger(context_name="context")
def countdown(context: df.DurableOrchestrationContext):
    left = context.get_input()
    context.set_custom_status({"left": left})
    if left > 0:
        yield context.call_activity("tick", left)
        context.continue_as_new(left - 1)
        return None
    return "liftoff"


@app.orchestration_trigger(context_name="context")
def use_entity(context: df.DurableOrchestrationContext):
    tally = df.EntityId("Tally", context.get_input())
    context.signal_entity(tally, "add", 5)
    total = yield context.call_entity(tally, "add", 2)
    try:
        yield context.call_entity(tally, "fail")
        failed = None
    except Exception as exc:
        failed = str(exc)
    return {"total": total, "failed": failed}


@app.orchestration_trigger(context_name="context")
def wait_forever(context: df.DurableOrchestrationContext):
    context.set_custom_status("waiting")
    value = yield context.wait_for_external_event("go")
    return value


@app.orchestration_trigger(context_name="context")
def forgetful(context: df.DurableOrchestrationContext):
    # Wrong on purpose: state outside the history changes what a replay schedules.
    REPLAYS["count"] += 1
    first = "tick" if REPLAYS["count"] == 1 else "tock"
    yield context.call_activity(first, 1)
    yield context.call_activity("tick", 2)
    return "done"


@app.orchestration_trigger(context_name="context")
def call_missing(context: df.DurableOrchestrationContext):
    return (yield context.call_activity("no_such_activity", 1))


@app.orchestration_trigger(context_name="context")
def call_failing(context: df.DurableOrchestrationContext):
    return (yield context.call_activity("explode", "boom"))


@app.orchestration_trigger(context_name="context")
def slow_step(context: df.DurableOrchestrationContext):
    return (yield context.call_activity("sleepy", context.get_input()))


@app.activity_trigger(input_name="seconds")
def sleepy(seconds: float) -> str:
    time.sleep(seconds)
    return f"rested {seconds} s"


@app.activity_trigger(input_name="n")
def tick(n: int) -> int:
    return n


@app.activity_trigger(input_name="n")
def tock(n: int) -> int:
    return -n


@app.activity_trigger(input_name="text")
def explode(text: str) -> None:
    raise ValueError(text)


@app.entity_trigger(context_name="context", entity_name="Tally")
def tally(context: df.DurableEntityContext) -> None:
    value = context.get_state(lambda: 0)
    if context.operation_name == "add":
        value += context.get_input()
    elif context.operation_name == "fail":
        raise RuntimeError("tally refuses")
    context.set_state(value)
    context.set_result(value)
