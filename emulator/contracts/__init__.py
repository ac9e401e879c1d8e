"""The contracts both halves of the offline stack speak, pure: connection strings, access tokens,
upstream signatures and headers, transport framing, hub messages and the two hub protocols.

Only the standard library, msgpack and PyJWT are imported (tests/unit/test_boundaries.py checks),
so the Functions host can use them without loading the SignalR Service.
"""

from .codec import HubProtocol
from .connection_string import ConnectionString, parse_connection_string
from .protocols import PROTOCOLS, protocol_for_content_type
from .signatures import sign_connection_id, verify_signature
from .tokens import (
    ReusedTokens,
    VerifiedTokens,
    client_audience,
    client_audience_matches,
    issue_token,
    rest_audience_matches,
    user_id_from_claims,
    verify_token,
)

__all__ = [
    "PROTOCOLS",
    "ConnectionString",
    "HubProtocol",
    "ReusedTokens",
    "VerifiedTokens",
    "client_audience",
    "client_audience_matches",
    "issue_token",
    "parse_connection_string",
    "protocol_for_content_type",
    "rest_audience_matches",
    "sign_connection_id",
    "user_id_from_claims",
    "verify_signature",
    "verify_token",
]
