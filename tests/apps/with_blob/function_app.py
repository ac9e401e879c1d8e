"""A SignalR app with one function the local host cannot run: it writes every message to a blob.

Modelled on the SignalR test app of the Functions extension bundles, where one function saves
what it receives to Blob Storage beside the negotiate, send and trigger functions.
"""

import json

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="negotiate", methods=["POST"])
@app.generic_input_binding(arg_name="connectionInfo", type="signalRConnectionInfo",
                           hub_name="simplechat")
def negotiate(req: func.HttpRequest, connectionInfo: str) -> func.HttpResponse:
    return func.HttpResponse(connectionInfo, mimetype="application/json")


@app.route(route="messages", methods=["POST"])
@app.generic_output_binding(arg_name="signalRMessages", type="signalR", hub_name="simplechat")
def send_message(req: func.HttpRequest, signalRMessages: func.Out[str]) -> str:
    signalRMessages.set(json.dumps({"target": "newMessage", "arguments": [req.get_json()]}))
    return "sent"


@app.route(route="archive", methods=["POST"])
@app.blob_output(arg_name="archive", path="messages/{rand-guid}.json",
                 connection="AzureWebJobsStorage")
def save_message(req: func.HttpRequest, archive: func.Out[str]) -> str:
    archive.set(req.get_body().decode())
    return "saved"


@app.generic_trigger(arg_name="invocation", type="signalRTrigger", hub_name="simplechat",
                     category="messages", event="echo")
def echo(invocation: str) -> str:
    return json.loads(invocation)["Arguments"][0]
