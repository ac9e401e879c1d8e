"""A small Python v2 app the host tests load by path; it knows nothing about the host."""

import json

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

# Every call of a SignalR trigger is recorded here so tests can prove what ran.
CALLS: list[tuple[str, dict]] = []


@app.route(route="items/{id:int}", methods=["GET"])
def get_item(req: func.HttpRequest) -> func.HttpResponse:
    body = {
        "id": req.route_params["id"],
        "q": req.params.get("q"),
        "header": req.headers.get("X-Test"),
        "url": req.url,
        "method": req.method,
    }
    return func.HttpResponse(json.dumps(body), mimetype="application/json", status_code=200)


@app.route(route="echo", methods=["POST"])
async def echo(req: func.HttpRequest) -> str:
    return "echo:" + req.get_body().decode()


@app.route(route="fail")
def fail(req: func.HttpRequest) -> func.HttpResponse:
    raise RuntimeError("deliberate failure")


@app.route(route="negotiate", methods=["POST"])
@app.generic_input_binding(arg_name="connectionInfo", type="signalRConnectionInfo",
                           hub_name="%HUB_NAME%", user_id="{headers.x-ms-client-principal-name}",
                           connection_string_setting="AzureSignalRConnectionString")
def negotiate(req: func.HttpRequest, connectionInfo: str) -> func.HttpResponse:
    return func.HttpResponse(connectionInfo, mimetype="application/json")


@app.route(route="send/{group?}", methods=["POST"])
@app.generic_output_binding(arg_name="signalRMessages", type="signalR", hub_name="%HUB_NAME%")
def send(req: func.HttpRequest, signalRMessages: func.Out[str]) -> func.HttpResponse:
    signalRMessages.set(req.get_body().decode())
    return func.HttpResponse("sent")


@app.generic_trigger(arg_name="invocation", type="signalRTrigger", hub_name="%HUB_NAME%",
                     category="messages", event="echo", parameter_names=["text"])
def on_echo(invocation: str) -> str:
    context = json.loads(invocation)
    CALLS.append(("echo", context))
    return "you said " + context["Arguments"][0]


@app.generic_trigger(arg_name="invocation", type="signalRTrigger", hub_name="%HUB_NAME%",
                     category="messages", event="boom")
def on_boom(invocation: str) -> None:
    CALLS.append(("boom", json.loads(invocation)))
    raise ValueError("boom went wrong")


@app.generic_trigger(arg_name="invocation", type="signalRTrigger", hub_name="%HUB_NAME%",
                     category="connections", event="connected")
@app.generic_output_binding(arg_name="signalRMessages", type="signalR", hub_name="%HUB_NAME%")
def on_connected(invocation: str, signalRMessages: func.Out[str]) -> None:
    context = json.loads(invocation)
    CALLS.append(("connected", context))
    if (context.get("Query") or {}).get("deny"):
        raise PermissionError("not welcome")
    signalRMessages.set(json.dumps({"target": "newConnection",
                                    "arguments": [context["ConnectionId"]]}))


@app.route(route="secret", auth_level=func.AuthLevel.FUNCTION)
def secret(req: func.HttpRequest) -> str:
    return "function-level"


@app.route(route="ops/only", auth_level=func.AuthLevel.ADMIN)
def admin_only(req: func.HttpRequest) -> str:
    return "admin-level"


# Durable entity: a counter per key, signalled and read through HTTP functions.
@app.entity_trigger(context_name="context", entity_name="Counter")
def counter(context) -> None:
    value = context.get_state(lambda: {"total": 0, "ops": []})
    operation = context.operation_name
    if operation == "add":
        amount = context.get_input()
        value["total"] += amount["by"]
        value["ops"].append(amount["by"])
    elif operation == "fail":
        raise ValueError("operation refused")
    elif operation == "delete":
        context.destruct_on_exit()
        return
    context.set_state(value)
    context.set_result(value["total"])


@app.route(route="counter/{key}/{op}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def signal_counter(req: func.HttpRequest, client) -> func.HttpResponse:
    import azure.durable_functions as df

    body = req.get_body()
    payload = json.loads(body) if body else None
    await client.signal_entity(df.EntityId("Counter", req.route_params["key"]),
                               req.route_params["op"], payload)
    return func.HttpResponse(status_code=202)


@app.route(route="counter/{key}", methods=["GET"])
@app.durable_client_input(client_name="client")
async def read_counter(req: func.HttpRequest, client) -> func.HttpResponse:
    import azure.durable_functions as df

    state = await client.read_entity_state(df.EntityId("counter", req.route_params["key"]))
    if not state.entity_exists:
        return func.HttpResponse("missing", status_code=404)
    return func.HttpResponse(json.dumps(state.entity_state), mimetype="application/json")


@app.generic_trigger(arg_name="invocation", type="signalRTrigger", hub_name="%HUB_NAME%",
                     category="messages", event="count", parameter_names=["amount"])
@app.durable_client_input(client_name="client")
async def on_count(invocation: str, client) -> int:
    import azure.durable_functions as df

    amount = json.loads(invocation)["Arguments"][0]
    await client.signal_entity(df.EntityId("Counter", "from-signalr"), "add", {"by": amount})
    state = await client.read_entity_state(df.EntityId("Counter", "from-signalr"))
    return state.entity_state["total"] if state.entity_exists else -1
