"""An app with a custom route prefix and a catch-all route."""

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="files/{*path}", methods=["GET"])
def files(req: func.HttpRequest) -> str:
    return req.route_params.get("path", "")
