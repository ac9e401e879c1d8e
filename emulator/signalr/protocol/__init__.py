"""Pure protocol cores of the local SignalR Service: no I/O, no clock, no randomness.

Only the standard library, msgpack and PyJWT are imported here.
"""

from .connection_string import ConnectionString, InvalidConnectionString, parse_connection_string
from .signatures import sign_connection_id, verify_signature
from .tokens import (
    InvalidToken,
    client_audience,
    client_audience_matches,
    issue_token,
    rest_audience_matches,
    user_id_from_claims,
    verify_token,
)

__all__ = [
    "ConnectionString",
    "InvalidConnectionString",
    "InvalidToken",
    "client_audience",
    "client_audience_matches",
    "issue_token",
    "parse_connection_string",
    "rest_audience_matches",
    "sign_connection_id",
    "user_id_from_claims",
    "verify_signature",
    "verify_token",
]
