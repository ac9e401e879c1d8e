"""A payment sub-orchestration retried when the card is declined, and an activity retried too."""

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)

# How many times each order was tried; the host runs the app in one process.
ATTEMPTS: dict[str, int] = {}


@app.route(route="orders", methods=["POST"])
@app.durable_client_input(client_name="client")
async def place_order(req: func.HttpRequest, client) -> func.HttpResponse:
    instance_id = await client.start_new("order_orchestrator", client_input=req.get_json())
    return client.create_check_status_response(req, instance_id)


@app.orchestration_trigger(context_name="context")
def order_orchestrator(context: df.DurableOrchestrationContext):
    order = context.get_input()
    retry = df.RetryOptions(first_retry_interval_in_milliseconds=200, max_number_of_attempts=3)
    receipt = yield context.call_sub_orchestrator_with_retry("charge_orchestrator", retry, order)
    notice = yield context.call_activity_with_retry("send_receipt", retry, receipt)
    return {"receipt": receipt, "notice": notice}


@app.orchestration_trigger(context_name="context")
def charge_orchestrator(context: df.DurableOrchestrationContext):
    order = context.get_input()
    return (yield context.call_activity("charge_card", order))


@app.activity_trigger(input_name="order")
def charge_card(order: dict) -> dict:
    attempt = ATTEMPTS[order["id"]] = ATTEMPTS.get(order["id"], 0) + 1
    if attempt <= order["declines"]:
        raise RuntimeError(f"card declined (attempt {attempt})")
    return {"order": order["id"], "charged": order["amount"], "attempts": attempt}


@app.activity_trigger(input_name="receipt")
def send_receipt(receipt: dict) -> str:
    key = "mail-" + receipt["order"]
    attempt = ATTEMPTS[key] = ATTEMPTS.get(key, 0) + 1
    if attempt == 1:
        raise ConnectionError("mail server busy")
    return f"receipt for {receipt['order']} sent"
