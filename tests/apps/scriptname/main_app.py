"""An app whose script is named by PYTHON_SCRIPT_FILE_NAME; its functions are in a blueprint."""

import azure.functions as func
from routes_bp import bp

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
app.register_functions(bp)
