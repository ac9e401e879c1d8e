"""An app with only a disconnected trigger, declared on a durable-free FunctionApp."""

import json

import azure.functions as func

app = func.FunctionApp()
CALLS: list[tuple[str, dict]] = []


@app.generic_trigger(arg_name="invocation", type="signalRTrigger", hub_name="%HUB_NAME%",
                     category="connections", event="disconnected")
def on_disconnected(invocation: str) -> None:
    context = json.loads(invocation)
    CALLS.append(("disconnected", context))
    if context["Error"] == "raise":
        raise RuntimeError("cleanup failed")
