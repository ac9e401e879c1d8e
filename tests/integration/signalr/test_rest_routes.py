"""Every REST route of v1, 2022-06-01 and 2024-12-01, with its status code.

docs/serverless-contracts.md, "Versions and routes".
"""

from __future__ import annotations

import pytest

from tests.integration.signalr.support import connect_client

BODY = {"target": "t", "arguments": []}

# (method, path under the prefix, status for /api, status for /api/v1, x-ms-error-code)
# {cid} is a live connection of user u1; it is in group g; u1 is a member of g.
ROUTES = [
    ("POST", "/hubs/chat", 202, 202, None),
    ("POST", "/hubs/chat/:send", 202, 202, None),
    ("POST", "/hubs/chat/users/u1/:send", 202, 202, None),
    ("POST", "/hubs/chat/users/nobody", 202, 202, None),
    ("POST", "/hubs/chat/connections/{cid}/:send", 202, 202, None),
    ("POST", "/hubs/chat/connections/unknown", 202, 202, None),
    ("POST", "/hubs/chat/groups/g/:send", 202, 202, None),
    ("POST", "/hubs/chat/groups/g", 202, 202, None),
    ("HEAD", "/hubs/chat/connections/{cid}", 200, 200, None),
    ("GET", "/hubs/chat/connections/unknown", 404, 404, "Warning.Connection.NotExisted"),
    ("HEAD", "/hubs/chat/groups/g", 200, 200, None),
    ("HEAD", "/hubs/chat/groups/empty", 404, 404, "Warning.Group.NotExisted"),
    ("GET", "/hubs/chat/users/u1", 200, 200, None),
    ("HEAD", "/hubs/chat/users/nobody", 404, 404, "Warning.User.NotExisted"),
    ("PUT", "/hubs/chat/groups/g2/connections/{cid}", 200, 200, None),
    ("PUT", "/hubs/chat/connections/{cid}/groups/g3", 200, 200, None),
    ("PUT", "/hubs/chat/groups/g2/connections/unknown", 404, 404, "Error.Connection.NotExisted"),
    ("DELETE", "/hubs/chat/groups/nogroup/connections/{cid}", 404, 404,
     "Warning.Connection.NotExisted"),
    ("HEAD", "/hubs/chat/users/u1/groups/g", 200, 200, None),
    ("GET", "/hubs/chat/groups/g/users/u1", 200, 200, None),
    ("HEAD", "/hubs/chat/users/u1/groups/other", 404, 404, "Info.User.NotInGroup"),
    ("PUT", "/hubs/chat/users/u2/groups/g?ttl=10", 200, 202, None),
    ("PUT", "/hubs/chat/groups/g/users/u2", 200, 202, None),
    ("PUT", "/hubs/chat/users/u2/groups/g?ttl=-1", 400, 400, None),
    ("DELETE", "/hubs/chat/users/u2/groups/g", 204, 202, None),
    ("DELETE", "/hubs/chat/groups/g/users/u2", 204, 202, None),
    ("DELETE", "/hubs/chat/users/u2/groups", 204, 200, None),
    ("POST", "/hubs/chat/users/u2/:closeConnections", 204, 204, None),
    ("POST", "/hubs/chat/groups/empty/:closeConnections", 204, 204, None),
    ("DELETE", "/hubs/chat/connections/unknown", 200, 202, None),
    ("POST", "/hubs/9chat/:send", 400, 400, None),
    ("PUT", "/hubs/chat/groups/%20/connections/{cid}", 400, 400, None),
]


async def _setup(make_service, http):
    """A service with one client of user u1, in group g through its user."""
    service = await make_service()
    client = await connect_client(http, service, token=service.client_token(user_id="u1"))
    setup = "/api/hubs/chat/users/u1/groups/g"
    async with http.put(service.base + setup, headers={
            "Authorization": f"Bearer {service.rest_token(setup)}"}) as r:
        assert r.status == 200
    return service, client


async def _call(http, service, method, full, version):
    """Send one route's request; ``full`` has {cid} filled in, ``version`` is an api-version or
    None (none sent)."""
    url_path = full.split("?")[0]
    headers = {"Authorization": f"Bearer {service.rest_token(url_path)}"}
    kwargs = {"json": BODY} if method == "POST" and ":close" not in full else {}
    query = "" if version is None else ("&" if "?" in full else "?") + f"api-version={version}"
    return http.request(method, service.base + full + query, headers=headers, **kwargs)


@pytest.mark.parametrize("version", ["2022-06-01", "2024-12-01", "v1"])
@pytest.mark.parametrize(("method", "path", "status", "legacy_status", "code"), ROUTES)
async def test_rest_route_status(make_service, http, version, method, path, status,
                                 legacy_status, code):
    """Each route answers with the documented status (and error code on not-found), the same
    under every dated version."""
    service, client = await _setup(make_service, http)
    legacy = version == "v1"
    full = ("/api/v1" if legacy else "/api") + path.replace("{cid}", client.connection_id)
    async with await _call(http, service, method, full, None if legacy else version) as response:
        assert response.status == (legacy_status if legacy else status)
        assert response.headers.get("x-ms-error-code") == code
    await client.ws.close()


# Routes added after 2022-06-01: (method, path under /api, first version, status with that
# version or later, status under /api/v1). {cid} as above.
NEWER_ROUTES = [
    ("POST", "/hubs/chat/:generateToken?userId=u9", "2023-07-01", 200, 200),
    ("POST", "/hubs/chat/:generateToken?minutesToExpire=0", "2023-07-01", 400, 400),
    ("GET", "/hubs/chat/groups/g/connections", "2024-12-01", 200, 404),
    ("GET", "/hubs/chat/groups/g/connections?maxpagesize=201", "2024-12-01", 400, 404),
    ("GET", "/hubs/chat/groups/%20/connections", "2024-12-01", 400, 404),
    ("GET", "/auth/accessKey", "2023-07-01", 501, 404),
    ("POST", "/hubs/chat/:execute", "2023-07-01", 501, 404),
    ("POST", "/hubs/chat/connections/{cid}/:invoke", "2024-12-01", 501, 404),
    ("POST", "/hubs/chat/connections/{cid}/streams/s1/:send", "2024-12-01", 501, 404),
    ("POST", "/hubs/chat/connections/{cid}/streams/s1/:complete", "2024-12-01", 501, 404),
    ("POST", "/hubs/chat/connections/{cid}/streams/%20/:complete", "2024-12-01", 400, 404),
    ("POST", "/hubs/9chat/connections/{cid}/:invoke", "2024-12-01", 400, 404),
]
OLDER = {"2023-07-01": "2022-06-01", "2024-12-01": "2023-07-01"}


@pytest.mark.parametrize("version", ["latest", "none", "older", "v1"])
@pytest.mark.parametrize(("method", "path", "since", "status", "legacy_status"), NEWER_ROUTES)
async def test_rest_newer_route_status(make_service, http, version, method, path, since,
                                       status, legacy_status):
    """Routes of 2023-07-01 and 2024-12-01 work (or answer 501) with that version or none, are
    a 400 with an older published version, and are not served under /api/v1 but
    :generateToken."""
    service, client = await _setup(make_service, http)
    legacy = version == "v1"
    full = ("/api/v1" if legacy else "/api") + path.replace("{cid}", client.connection_id)
    sent = {"latest": "2024-12-01", "none": None, "older": OLDER[since], "v1": None}[version]
    async with await _call(http, service, method, full, sent) as response:
        expected = {"v1": legacy_status, "older": 400}.get(version, status)
        assert response.status == expected
        if version == "older":
            assert f"added in {since}" in (await response.json())["message"]
    await client.ws.close()


async def test_rest_generate_token_gives_usable_client_token(make_service, http):
    """:generateToken returns a client token the service accepts at negotiate."""
    service = await make_service()
    path = "/api/hubs/chat/:generateToken"
    async with http.post(service.base + path + "?userId=bob&minutesToExpire=5", headers={
            "Authorization": f"Bearer {service.rest_token(path)}"}) as r:
        token = (await r.json())["token"]
    client = await connect_client(http, service, token=token)
    assert client.connection_id
    await client.ws.close()


async def test_rest_close_group_closes_members_only(make_service, http):
    """POST groups/{g}/:closeConnections closes the members with the reason."""
    service = await make_service()
    member = await connect_client(http, service)
    other = await connect_client(http, service)
    path = f"/api/hubs/chat/connections/{member.connection_id}/groups/g"
    async with http.put(service.base + path, headers={
            "Authorization": f"Bearer {service.rest_token(path)}"}):
        pass
    path = "/api/hubs/chat/groups/g/:closeConnections"
    async with http.post(service.base + path + "?reason=done", headers={
            "Authorization": f"Bearer {service.rest_token(path)}"}) as r:
        assert r.status == 204
    assert (await member.receive())["error"] == "done"
    path = "/api/hubs/chat/:send"
    async with http.post(service.base + path, json=BODY, headers={
            "Authorization": f"Bearer {service.rest_token(path)}"}):
        pass
    assert (await other.receive())["target"] == "t"


async def test_rest_missing_token_is_401(make_service, http):
    """Without Authorization every protected route is a 401."""
    service = await make_service()
    async with http.post(service.base + "/api/v1/hubs/chat", json=BODY) as r:
        assert r.status == 401


async def test_rest_non_json_body_is_415(make_service, http):
    """A text/plain body is refused with 415."""
    service = await make_service()
    path = "/api/hubs/chat/:send"
    async with http.post(service.base + path, data="hi", headers={
            "Authorization": f"Bearer {service.rest_token(path)}",
            "Content-Type": "text/plain"}) as r:
        assert r.status == 415
