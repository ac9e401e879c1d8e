"""A small app the way people write them: logs through the root logger, two HTTP routes.

The tool tests copy it into a folder of their own and edit ``GREETING`` (or the
``TOOL_GREETING`` setting) while it runs.
"""

import logging
import os

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

GREETING = "hello"


@app.route(route="hello", methods=["GET"])
def hello(req: func.HttpRequest) -> func.HttpResponse:
    greeting = os.environ.get("TOOL_GREETING", GREETING)
    logging.info("saying %s to %s", greeting, req.params.get("name", "you"))
    return func.HttpResponse(greeting)


@app.route(route="other", methods=["GET"])
def other(req: func.HttpRequest) -> str:
    return "other"
