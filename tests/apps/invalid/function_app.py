"""The invalid variant: runs on the Python library, refused by Azure (and by the local host).

``ping`` declares ``-> None`` on an HTTP function: the Python worker accepts only HttpResponse
or str there, and refusing one function fails the indexing of the whole app.
"""

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="items/{id}", methods=["GET"])
def get_item(req: func.HttpRequest) -> str:
    return req.route_params["id"]


@app.route(route="ping", methods=["POST"])
def ping(req: func.HttpRequest) -> None:
    return None
