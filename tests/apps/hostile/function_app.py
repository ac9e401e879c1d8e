"""A small app for the host's hardening tests: big bodies, errors that echo what the client
sent, a SignalR function that refuses every call, a key-protected function, a durable entity."""

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="size", methods=["POST"])
def size(req: func.HttpRequest) -> str:
    return str(len(req.get_body()))


@app.route(route="echo-error")
def echo_error(req: func.HttpRequest) -> str:
    raise ValueError("bad input: " + req.params.get("x", ""))


@app.route(route="secret", auth_level=func.AuthLevel.FUNCTION)
def secret(req: func.HttpRequest) -> str:
    return "function-level"


@app.generic_trigger(arg_name="invocation", type="signalRTrigger", hub_name="chat",
                     category="messages", event="refuse")
def refuse(invocation: str) -> None:
    raise PermissionError("you may not do that")


@app.entity_trigger(context_name="context", entity_name="Box")
def box(context: df.DurableEntityContext) -> None:
    context.set_state(context.get_input())


@app.route(route="box/{key}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def put_box(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> str:
    entity = df.EntityId("Box", req.route_params["key"])
    await client.signal_entity(entity, "set", req.get_body().decode())
    state = await client.read_entity_state(entity)
    return "exists" if state.entity_exists else "new"
