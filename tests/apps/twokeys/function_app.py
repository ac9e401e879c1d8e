"""Two SignalR connections: the trigger uses the default one, an output uses another."""

import azure.functions as func

app = func.FunctionApp()


@app.generic_trigger(arg_name="invocation", type="signalRTrigger", hub_name="%HUB_NAME%",
                     category="messages", event="ping")
@app.generic_output_binding(arg_name="other", type="signalR", hub_name="%HUB_NAME%",
                            connection_string_setting="OtherConnection")
def ping(invocation: str, other: func.Out[str]) -> str:
    return "pong"
