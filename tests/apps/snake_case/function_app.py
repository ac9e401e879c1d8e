"""A SignalR app written the Python way: snake_case binding names everywhere.

Functions hosts from 4.1038 accept them (older ones refused underscores in binding names).
"""

import json

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

heartbeats: list[dict] = []


@app.route(route="negotiate", methods=["POST"])
@app.generic_input_binding(arg_name="connection_info", type="signalRConnectionInfo",
                           hub_name="chat", user_id="{query.user_name}")
def negotiate(req: func.HttpRequest, connection_info: str) -> func.HttpResponse:
    return func.HttpResponse(connection_info, mimetype="application/json")


@app.route(route="messages", methods=["POST"])
@app.generic_output_binding(arg_name="signalr_messages", type="signalR", hub_name="chat")
def send_message(req: func.HttpRequest, signalr_messages: func.Out[str]) -> str:
    text = req.get_json()["text"]
    signalr_messages.set(json.dumps({"target": "new_message", "arguments": [text]}))
    return "sent"


@app.generic_trigger(arg_name="signalr_invocation", type="signalRTrigger", hub_name="chat",
                     category="messages", event="say_hello", parameter_names=["user_name"])
def say_hello(signalr_invocation: str) -> str:
    user_name = json.loads(signalr_invocation)["Arguments"][0]
    return f"hello {user_name}"


@app.timer_trigger(schedule="%HEARTBEAT_SCHEDULE%", arg_name="heartbeat_timer",
                   run_on_startup=True, use_monitor=False)
def heartbeat(heartbeat_timer: func.TimerRequest) -> None:
    heartbeats.append({"past_due": heartbeat_timer.past_due})


@app.route(route="heartbeats", methods=["GET"])
def list_heartbeats(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(heartbeats), mimetype="application/json")
