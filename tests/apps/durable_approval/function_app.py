"""An approval flow: wait for a person's decision (an external event) or give up after a while."""

import json
from datetime import timedelta

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="approvals", methods=["POST"])
@app.durable_client_input(client_name="client")
async def request_approval(req: func.HttpRequest, client) -> func.HttpResponse:
    instance_id = await client.start_new("approval_flow", client_input=req.get_json())
    return client.create_check_status_response(req, instance_id)


@app.route(route="approvals/{instanceId}/decision", methods=["POST"])
@app.durable_client_input(client_name="client")
async def decide(req: func.HttpRequest, client) -> func.HttpResponse:
    await client.raise_event(req.route_params["instanceId"], "Decision", req.get_json())
    return func.HttpResponse(status_code=202)


@app.orchestration_trigger(context_name="context")
def approval_flow(context: df.DurableOrchestrationContext):
    request = context.get_input()
    context.set_custom_status("waiting for a decision")
    deadline = context.current_utc_datetime + timedelta(seconds=request["timeout_seconds"])
    timeout = context.create_timer(deadline)
    decision = context.wait_for_external_event("Decision")
    winner = yield context.task_any([decision, timeout])
    if winner == decision:
        timeout.cancel()
        answer = decision.result
        if isinstance(answer, str):  # raise_event from the SDK arrives as JSON text
            answer = json.loads(answer)
        context.set_custom_status("decided")
        return (yield context.call_activity("record_decision",
                                            {"item": request["item"], "answer": answer}))
    context.set_custom_status("expired")
    return {"item": request["item"], "approved": False, "reason": "no decision in time"}


@app.activity_trigger(input_name="decision")
def record_decision(decision: dict) -> dict:
    return {"item": decision["item"], "approved": bool(decision["answer"].get("approved")),
            "by": decision["answer"].get("by")}
