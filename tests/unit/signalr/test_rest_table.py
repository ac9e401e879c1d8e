"""The REST route table against the spec's route list and the service README.

docs/serverless-contracts.md, "Versions and routes"; emulator/signalr/README.md, "Not implemented".
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from emulator.signalr.rest import ROUTES

README = Path(__file__).resolve().parents[3] / "emulator/signalr/README.md"

# Every (method, path) of the 2024-12-01 spec (Azure/azure-signalr docs/swagger/v20241201.md,
# "Available APIs"), with the spec's parameter names.
SPEC_2024_12_01 = {
    ("GET", "/api/auth/accessKey"),
    ("HEAD", "/api/health"),
    ("POST", "/api/hubs/{hub}/:closeConnections"),
    ("POST", "/api/hubs/{hub}/:execute"),
    ("POST", "/api/hubs/{hub}/:generateToken"),
    ("POST", "/api/hubs/{hub}/:send"),
    ("DELETE", "/api/hubs/{hub}/connections/{connectionId}"),
    ("HEAD", "/api/hubs/{hub}/connections/{connectionId}"),
    ("POST", "/api/hubs/{hub}/connections/{connectionId}/:invoke"),
    ("POST", "/api/hubs/{hub}/connections/{connectionId}/:send"),
    ("DELETE", "/api/hubs/{hub}/connections/{connectionId}/groups"),
    ("POST", "/api/hubs/{hub}/connections/{connectionId}/streams/{streamId}/:complete"),
    ("POST", "/api/hubs/{hub}/connections/{connectionId}/streams/{streamId}/:send"),
    ("HEAD", "/api/hubs/{hub}/groups/{group}"),
    ("POST", "/api/hubs/{hub}/groups/{group}/:closeConnections"),
    ("POST", "/api/hubs/{hub}/groups/{group}/:send"),
    ("GET", "/api/hubs/{hub}/groups/{group}/connections"),
    ("DELETE", "/api/hubs/{hub}/groups/{group}/connections/{connectionId}"),
    ("PUT", "/api/hubs/{hub}/groups/{group}/connections/{connectionId}"),
    ("HEAD", "/api/hubs/{hub}/users/{user}"),
    ("POST", "/api/hubs/{hub}/users/{user}/:closeConnections"),
    ("POST", "/api/hubs/{hub}/users/{user}/:send"),
    ("DELETE", "/api/hubs/{hub}/users/{user}/groups"),
    ("DELETE", "/api/hubs/{hub}/users/{user}/groups/{group}"),
    ("HEAD", "/api/hubs/{hub}/users/{user}/groups/{group}"),
    ("PUT", "/api/hubs/{hub}/users/{user}/groups/{group}"),
}
_NAMES = {"cid": "connectionId", "stream": "streamId"}


def _spec_path(path: str) -> str:
    """A table path under /api with the spec's parameter names and no regular expressions."""
    def name(match: re.Match[str]) -> str:
        return "{" + _NAMES.get(match[1], match[1]) + "}"

    return "/api" + re.sub(r"\{(\w+)(?::[^}]*)?\}", name, path)


def _table() -> set[tuple[str, str]]:
    return {(r.method, _spec_path(r.path)) for r in ROUTES} | {("HEAD", "/api/health")}


def test_rest_table_serves_every_route_of_2024_12_01():
    assert SPEC_2024_12_01 - _table() == set()


def test_rest_table_501_routes_are_exactly_those_the_readme_lists():
    text = README.read_text(encoding="utf-8")
    section = text.split("## Not implemented", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(\w+) (/\S+)` \| `(\w+)` \|", section, flags=re.MULTILINE)
    listed = {(method, path, operation) for method, path, operation in rows}
    served = {
        (r.method, _spec_path(r.path), asyncio.run(r.handler(None))["target"])  # type: ignore[arg-type]
        for r in ROUTES if r.status == 501
    }
    assert served and listed == served


def test_rest_table_routes_after_2022_06_01_are_not_served_under_v1_but_generate_token():
    later = {_spec_path(r.path) for r in ROUTES
             if r.since > "2022-06-01" and r.legacy_status is not None}
    assert later == {"/api/hubs/{hub}/:generateToken"}
