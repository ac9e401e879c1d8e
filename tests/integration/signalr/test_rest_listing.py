"""Listing a group's connections (2024-12-01) and the 501 answers, through real HTTP.

docs/serverless-contracts.md, "Listing a group's connections"; emulator/signalr/README.md,
"Not implemented".
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import jwt

from tests.integration.signalr.support import connect_client


async def _get(http, service, url):
    """GET an absolute URL or a path with a REST token for its path; (status, JSON body)."""
    parts = urlsplit(url)
    target = url if parts.scheme else service.base + url
    async with http.get(target, headers={
            "Authorization": f"Bearer {service.rest_token(parts.path)}"}) as response:
        return response.status, await response.json()


async def _join(http, service, hub, group, connection_id, query=""):
    path = f"/api/hubs/{hub}/groups/{group}/connections/{connection_id}"
    async with http.put(service.base + path + query, headers={
            "Authorization": f"Bearer {service.rest_token(path)}"}) as response:
        assert response.status == 200


async def _pages(http, service, url):
    """Every page of a listing, following nextLink; the pages' bodies in order."""
    pages = []
    while url:
        status, body = await _get(http, service, url)
        assert status == 200, body
        pages.append(body)
        url = body.get("nextLink")
    return pages


async def test_rest_list_group_connections_follows_next_links_to_every_member(make_service,
                                                                             http):
    """Four members paged two at a time: two pages in connection-id order, user ids shown."""
    service = await make_service()
    clients = [await connect_client(http, service, token=service.client_token(user_id=f"u{i}"))
               for i in range(2)]
    clients += [await connect_client(http, service) for _ in range(2)]
    outsider = await connect_client(http, service)
    for client in clients:
        await _join(http, service, "chat", "room", client.connection_id)
    pages = await _pages(http, service, "/api/hubs/chat/groups/room/connections"
                                        "?maxpagesize=2&api-version=2024-12-01")
    assert [len(page["value"]) for page in pages] == [2, 2]
    assert "nextLink" not in pages[-1]  # a full last page has no link to an empty one
    members = [member for page in pages for member in page["value"]]
    ids = [member["connectionId"] for member in members]
    assert ids == sorted(c.connection_id for c in clients)
    assert outsider.connection_id not in ids
    users = {c.connection_id: f"u{i}" for i, c in enumerate(clients[:2])}
    assert members == [{"connectionId": cid, "userId": users[cid]} if cid in users
                       else {"connectionId": cid} for cid in ids]
    link = urlsplit(pages[0]["nextLink"])
    assert link.netloc == f"127.0.0.1:{service.port}"
    assert parse_qs(link.query) == {"maxpagesize": ["2"], "continuationToken": [ids[1]],
                                    "api-version": ["2024-12-01"]}


async def test_rest_list_group_connections_top_bounds_the_whole_listing(make_service, http):
    """top=3 over pages of two: three members in all, the next link asking for the one left."""
    service = await make_service()
    clients = [await connect_client(http, service) for _ in range(4)]
    for client in clients:
        await _join(http, service, "chat", "room", client.connection_id)
    pages = await _pages(http, service,
                         "/api/hubs/chat/groups/room/connections?maxpagesize=2&top=3")
    assert [len(page["value"]) for page in pages] == [2, 1]
    assert parse_qs(urlsplit(pages[0]["nextLink"]).query)["top"] == ["1"]
    assert parse_qs(urlsplit(pages[0]["nextLink"]).query)["api-version"] == ["2024-12-01"]


async def test_rest_list_group_connections_keeps_the_application(make_service, http):
    """With application=app1 the listing is of hub app1_chat, and next links keep it."""
    service = await make_service()
    clients = [await connect_client(http, service, hub="app1_chat") for _ in range(2)]
    other_app = await connect_client(http, service)
    for client in clients:
        await _join(http, service, "chat", "room", client.connection_id, "?application=app1")
    await _join(http, service, "chat", "room", other_app.connection_id)
    pages = await _pages(http, service, "/api/hubs/chat/groups/room/connections"
                                        "?application=app1&maxpagesize=1")
    assert [page["value"][0]["connectionId"] for page in pages] == sorted(
        c.connection_id for c in clients)
    assert parse_qs(urlsplit(pages[0]["nextLink"]).query)["application"] == ["app1"]


async def test_rest_list_connections_of_an_empty_group_is_an_empty_page(make_service, http):
    """A group nobody is in lists as {"value": []}, not 404."""
    service = await make_service()
    status, body = await _get(http, service, "/api/hubs/chat/groups/nobody/connections")
    assert (status, body) == (200, {"value": []})


async def test_rest_not_implemented_route_says_what_is_missing(make_service, http):
    """:invoke answers 501 with an ErrorDetail naming the operation; without a token, 401."""
    service = await make_service()
    client = await connect_client(http, service)
    path = f"/api/hubs/chat/connections/{client.connection_id}/:invoke"
    async with http.post(service.base + path + "?api-version=2024-12-01",
                         json={"target": "t", "arguments": []}, headers={
            "Authorization": f"Bearer {service.rest_token(path)}"}) as response:
        assert response.status == 501
        assert response.content_type == "application/json"
        body = await response.json()
    assert body["code"] == "NotImplemented"
    assert body["target"] == "HubProxyV20241201_InvokeClientConnection"
    assert "invocations that wait for the client's result" in body["message"]
    for unauthenticated in (path, "/api/hubs/chat/groups/room/connections"):
        async with http.request("POST" if ":" in unauthenticated else "GET",
                                service.base + unauthenticated) as response:
            assert response.status == 401


async def test_rest_generate_token_lives_minutes_to_expire(make_service, http):
    """:generateToken with minutesToExpire=5 returns a token for the user, valid 5 minutes."""
    service = await make_service()
    path = "/api/hubs/chat/:generateToken"
    async with http.post(service.base + path + "?userId=bob&minutesToExpire=5&api-version="
                         "2024-12-01", headers={
            "Authorization": f"Bearer {service.rest_token(path)}"}) as response:
        assert response.status == 200
        claims = jwt.decode((await response.json())["token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 300
    assert "bob" in claims.values()
