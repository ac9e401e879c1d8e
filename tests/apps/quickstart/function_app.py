"""A serverless SignalR app in the shape of the Microsoft Learn Python v2 quickstart.

A page, a negotiate function for the SignalR client, and a timer that pushes a message to every
connected client once a minute through the SignalR output binding. Written here; the
quickstart's own timer asks a web API for a number, this one counts its runs.
"""

import json
import logging
from pathlib import Path

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

PAGE = Path(__file__).parent / "content" / "index.html"
runs = 0


@app.route(route="index", methods=["GET"])
def index(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(PAGE.read_text(encoding="utf-8"), mimetype="text/html")


@app.route(route="negotiate", methods=["POST"])
@app.generic_input_binding(arg_name="connectionInfo", type="signalRConnectionInfo",
                           hub_name="serverless",
                           connection_string_setting="AzureSignalRConnectionString")
def negotiate(req: func.HttpRequest, connectionInfo: str) -> func.HttpResponse:
    return func.HttpResponse(connectionInfo)


@app.timer_trigger(schedule="*/1 * * * *", arg_name="myTimer", run_on_startup=False,
                   use_monitor=False)
@app.generic_output_binding(arg_name="signalRHub", type="signalR", hub_name="serverless",
                            connection_string_setting="AzureSignalRConnectionString")
def broadcast(myTimer: func.TimerRequest, signalRHub: func.Out[str]) -> None:
    global runs
    if myTimer.past_due:
        logging.info("The timer is past due!")
    runs += 1
    signalRHub.set(json.dumps({
        "target": "newMessage",
        "arguments": [f"This message was sent by a timer, run {runs}."],
    }))
