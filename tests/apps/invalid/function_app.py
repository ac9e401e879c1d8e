"""The invalid variant: runs on the Python library, refused by Azure (and by the local host).

The output binding name has an underscore, which the host's binding-name rule rejects.
"""

import json

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="items/{id}", methods=["GET"])
def get_item(req: func.HttpRequest) -> str:
    return req.route_params["id"]


@app.route(route="send", methods=["POST"])
@app.generic_output_binding(arg_name="signalr_messages", type="signalR", hub_name="chat")
def send(req: func.HttpRequest, signalr_messages: func.Out[str]) -> str:
    signalr_messages.set(json.dumps({"target": "t", "arguments": []}))
    return "sent"
