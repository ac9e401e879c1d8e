"""Function chaining and fan-out/fan-in behind the HTTP starter `func new` generates."""

import azure.durable_functions as df
import azure.functions as func

myApp = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


# An HTTP-triggered function with a Durable Functions client binding
@myApp.route(route="orchestrators/{functionName}")
@myApp.durable_client_input(client_name="client")
async def http_start(req: func.HttpRequest, client):
    function_name = req.route_params.get("functionName")
    payload = req.get_json() if req.get_body() else None
    instance_id = await client.start_new(function_name, client_input=payload)
    response = client.create_check_status_response(req, instance_id)
    return response


# Orchestrator: function chaining
@myApp.orchestration_trigger(context_name="context")
def hello_orchestrator(context):
    result1 = yield context.call_activity("hello", "Seattle")
    result2 = yield context.call_activity("hello", "Tokyo")
    result3 = yield context.call_activity("hello", "London")
    return [result1, result2, result3]


# Orchestrator: fan-out/fan-in
@myApp.orchestration_trigger(context_name="context")
def count_cities(context: df.DurableOrchestrationContext):
    cities = context.get_input()
    context.set_custom_status({"cities": len(cities)})
    counts = yield context.task_all([context.call_activity("count_letters", c) for c in cities])
    total = yield context.call_activity("add_up", counts)
    return {"counts": counts, "total": total}


# Activity
@myApp.activity_trigger(input_name="city")
def hello(city: str):
    return "Hello " + city


@myApp.activity_trigger(input_name="city")
async def count_letters(city: str) -> int:
    return len(city)


@myApp.activity_trigger(input_name="counts")
def add_up(counts: list) -> int:
    return sum(counts)
