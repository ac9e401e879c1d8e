"""Functions declared on a Blueprint and registered by main_app.py."""

import azure.functions as func

bp = func.Blueprint()


@bp.route(route="hello/{name:alpha}", methods=["GET"])
def hello(req: func.HttpRequest) -> str:
    return "hello " + req.route_params["name"]
