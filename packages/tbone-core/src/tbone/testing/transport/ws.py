"""WebSocket behaviours of the ``tbone.v1`` protocol: requests, subscriptions, events, auth.

Each runs against a fresh :func:`~.app.build_realtime_api` on a real server, with real
``websockets`` clients, and ends by checking the server still serves and no subscription is
left behind.
"""

from __future__ import annotations

from typing import Any

import httpx

from .wsharness import Peer, WsHarness, ws_behaviour

__all__: list[str] = []

_MEANINGFUL = ("content-type", "location", "etag", "allow")


def _headers(headers: Any) -> dict[str, str]:
    lowered = {name.lower(): value for name, value in dict(headers).items()}
    return {name: lowered[name] for name in _MEANINGFUL if name in lowered}


def _same_answer(frame: dict[str, Any], response: httpx.Response) -> None:
    """A response frame says what the HTTP response says: status, headers that matter, body."""
    assert frame["type"] == "response", frame
    assert frame["status"] == response.status_code, (frame, response.text)
    assert _headers(frame["headers"]) == _headers(response.headers)
    body = response.json() if response.content else None
    assert frame["body"] == body


@ws_behaviour("ws_handshake")
async def handshake(h: WsHarness) -> None:
    for offered, chosen in [
        (("tbone.v1",), "tbone.v1"),
        (("other", "tbone.v1"), "tbone.v1"),
        (None, None),  # browsers' bare new WebSocket(url) offer none
        (("other",), None),
    ]:
        async with h.connect(subprotocols=offered) as peer:
            assert peer.subprotocol == chosen, offered
            await peer.ping()
    await h.still_serving()


@ws_behaviour("ws_request_matches_http")
async def request_matches_http(h: WsHarness) -> None:
    books = await h.seed()
    dune = books[0]["id"]
    reads = [
        "/api",
        "/api/books",
        "/api/books/",
        "/api/books?author=Herbert&year__gte=1960&order_by=-year,title",
        "/api/books?author__in=Lem,Borges&fields=title,year&limit=1",
        f"/api/books/{dune}",
        f"/api/books/{dune}?fields=title",
        "/api/books/nope",
        "/api/nothing",
        "/api/books?title=Dune",
        "/api/books?limit=-1",
    ]
    async with h.connect() as peer:
        for i, path in enumerate(reads):
            _same_answer(await peer.request(i, "GET", path), await h.http.get(path))
        for i, (method, path) in enumerate(
            [("DELETE", "/api/books"), ("POST", f"/api/books/{dune}")]
        ):
            frame = await peer.request(f"m{i}", method, path, body={})
            _same_answer(frame, await h.http.request(method, path, json={}))
        bad = {"title": "", "year": "abc"}
        frame = await peer.request("bad", "POST", "/api/books", body=bad)
        _same_answer(frame, await h.http.post("/api/books", json=bad))
        created = await peer.request("c", "POST", "/api/books", body={"title": "K", "author": "B"})
        assert created["status"] == 201, created
        location = created["headers"]["Location"]
        _same_answer(await peer.request("r", "GET", location), await h.http.get(location))
        patched = await peer.request("p", "PATCH", location, body={"year": 1979})
        assert (patched["status"], patched["body"]["year"]) == (200, 1979)
        _same_answer(await peer.request("r2", "GET", location), await h.http.get(location))
        deleted = await peer.request("d", "DELETE", location)
        assert (deleted["status"], deleted["body"]) == (204, None)
        assert (await h.http.get(location)).status_code == 404
    await h.still_serving()


async def _expect_event(peer: Peer, sub: str, event: str, pk: Any) -> dict[str, Any]:
    frame = await peer.next()
    assert frame["type"] == "event", frame
    assert (frame["subscription"], frame["resource"], frame["event"], frame["pk"]) == (
        sub,
        "books",
        event,
        pk,
    ), frame
    data: dict[str, Any] = frame["data"]
    assert "cost" not in data  # private: never output
    assert "secret" not in data  # write-only: never output
    return data


@ws_behaviour("ws_events_for_http_writes")
async def events_for_http_writes(h: WsHarness) -> None:
    async with h.connect() as peer:
        sub = await peer.subscribe("books")
        made = await h.http.post("/api/books", json={"title": "Dune", "author": "H", "secret": "s"})
        pk = made.json()["id"]
        assert await _expect_event(peer, sub, "created", pk) == made.json()
        changed = await h.http.patch(f"/api/books/{pk}", json={"year": 1965})
        assert await _expect_event(peer, sub, "updated", pk) == changed.json()
        assert (await h.http.delete(f"/api/books/{pk}")).status_code == 204
        assert await _expect_event(peer, sub, "deleted", pk) == changed.json()
        await peer.nothing()
    await h.still_serving()


@ws_behaviour("ws_events_for_writes_over_another_socket")
async def events_for_socket_writes(h: WsHarness) -> None:
    async with h.connect() as listener, h.connect() as writer:
        sub = await listener.subscribe("books", events=["created", "deleted"])
        made = await writer.request(1, "POST", "/api/books", body={"title": "Emma", "author": "A"})
        pk = made["body"]["id"]
        assert await _expect_event(listener, sub, "created", pk) == made["body"]
        await writer.request(2, "PATCH", f"/api/books/{pk}", body={"year": 1815})  # not wanted
        await writer.request(3, "DELETE", f"/api/books/{pk}")
        assert (await _expect_event(listener, sub, "deleted", pk))["year"] == 1815
        await listener.nothing()
        await writer.nothing()  # a writer does not hear its own writes unless it subscribed
    await h.still_serving()


@ws_behaviour("ws_events_for_python_writes")
async def events_for_python_writes(h: WsHarness) -> None:
    books = h.api.resource("books")
    async with h.connect() as peer:
        sub = await peer.subscribe("books")
        made = await h.in_server(lambda: books.create({"title": "Kindred", "author": "B"}))
        data = await _expect_event(peer, sub, "created", made.id)
        assert data["title"] == "Kindred"
        await h.in_server(lambda: books.update(made.id, {"year": 1979}))
        assert (await _expect_event(peer, sub, "updated", made.id))["year"] == 1979
        await h.in_server(lambda: books.delete(made.id))
        await _expect_event(peer, sub, "deleted", made.id)
    await h.still_serving()


@ws_behaviour("ws_filters_and_single_objects")
async def filters_and_single_objects(h: WsHarness) -> None:
    books = await h.seed()
    dune = books[0]["id"]
    async with h.connect() as peer:
        herbert = await peer.subscribe("books", 1, filter={"author": "Herbert"})
        recent = await peer.subscribe("books", 2, filter={"year__gte": 1960, "in_print": True})
        one = await peer.subscribe("books", 3, pk=dune, events=["updated"])
        await h.http.post("/api/books", json={"title": "Old", "author": "Nobody", "year": 1900})
        await peer.nothing()
        await h.http.patch(f"/api/books/{dune}", json={"year": 1966})
        got = {(f["subscription"], f["event"]) for f in [await peer.next() for _ in range(3)]}
        assert got == {(herbert, "updated"), (recent, "updated"), (one, "updated")}
        new = await h.http.post("/api/books", json={"title": "X", "author": "Lem", "year": 1970})
        frame = await peer.next()
        assert (frame["subscription"], frame["pk"]) == (recent, new.json()["id"])
        await peer.nothing()
    await h.still_serving()


@ws_behaviour("ws_unsubscribe")
async def unsubscribe(h: WsHarness) -> None:
    async with h.connect() as peer:
        sub = await peer.subscribe("books")
        await h.wait_subscriptions(1)
        assert await peer.call({"type": "unsubscribe", "id": 2, "subscription": sub}) == {
            "type": "unsubscribed",
            "id": 2,
        }
        await h.wait_subscriptions(0)
        await h.http.post("/api/books", json={"title": "Dune", "author": "H"})
        await peer.nothing()
        again = await peer.call({"type": "unsubscribe", "id": 3, "subscription": sub})
        assert (again["type"], again["id"], again["status"]) == ("error", 3, 404)
    await h.still_serving()


@ws_behaviour("ws_ping_pong")
async def ping_pong(h: WsHarness) -> None:
    async with h.connect() as peer:
        for _ in range(3):
            await peer.ping()
        assert await peer.call({"type": "ping", "id": 7}) == {"type": "pong"}
    await h.still_serving()


@ws_behaviour("ws_auth_query_header_and_frame")
async def auth_ways(h: WsHarness) -> None:
    bearer = {"Authorization": "Bearer bob-token"}
    async with (
        h.connect("token=alice-token") as alice,
        h.connect(headers=bearer) as bob,
        h.connect() as later,
    ):
        for peer, user in ((alice, "alice"), (bob, "bob")):
            made = await peer.request(1, "POST", "/api/notes", body={"text": f"by {user}"})
            assert (made["status"], made["body"]["owner"]) == (201, user), made
        anonymous = await later.request(1, "GET", "/api/notes")
        assert anonymous["status"] == 401
        assert await later.call({"type": "auth", "id": 2, "token": "alice-token"}) == {
            "type": "authenticated",
            "id": 2,
        }
        mine = await later.request(3, "GET", "/api/notes")
        assert [n["text"] for n in mine["body"]["objects"]] == ["by alice"]
        refused = await later.call({"type": "auth", "id": 4, "token": "wrong"})
        assert (refused["type"], refused["id"], refused["status"]) == ("error", 4, 401)
        await later.ping()
    await h.still_serving()


@ws_behaviour("ws_bad_credentials_on_connect")
async def bad_credentials(h: WsHarness) -> None:
    for query, headers in (("token=wrong", None), ("", {"Authorization": "Bearer wrong"})):
        async with h.connect(query, headers=headers) as peer:
            code, frames = await peer.closed()
            assert code == 4401
            assert [(f["type"], f["id"], f["status"]) for f in frames] == [("error", None, 401)]
    await h.still_serving()


@ws_behaviour("ws_scope_and_permissions_per_subscriber")
async def scope_per_subscriber(h: WsHarness) -> None:
    async with (
        h.connect("token=alice-token") as alice,
        h.connect("token=bob-token") as bob,
        h.connect() as anonymous,
    ):
        denied = await anonymous.call({"type": "subscribe", "id": 1, "resource": "notes"})
        assert (denied["type"], denied["id"], denied["status"]) == ("error", 1, 401)
        sub_a = await alice.subscribe("notes")
        await bob.subscribe("notes")
        made = await h.http.post(
            "/api/notes",
            json={"text": "secret plan"},
            headers={"Authorization": "Bearer alice-token"},
        )
        assert made.status_code == 201, made.text
        event = await alice.next()
        assert (event["subscription"], event["event"], event["data"]) == (
            sub_a,
            "created",
            made.json(),
        )
        await bob.nothing()
        await anonymous.nothing()
    await h.still_serving()


@ws_behaviour("ws_subscriptions_end_with_the_socket")
async def subscriptions_end_with_the_socket(h: WsHarness) -> None:
    async with h.connect() as first, h.connect("token=bob-token") as second:
        for i in range(3):
            await first.subscribe("books", i)
        await second.subscribe("notes")
        await h.wait_subscriptions(4)
        await first.ws.close()
        await h.wait_subscriptions(1)
        second.ws.transport.abort()  # no closing handshake: the TCP connection just drops
        await h.wait_subscriptions(0)
    await h.still_serving()


@ws_behaviour("ws_shutdown_closes_sockets_going_away")
async def shutdown_goes_away(h: WsHarness) -> None:
    import asyncio

    async with h.connect() as idle, h.connect() as listening:
        await listening.subscribe("books")
        await asyncio.to_thread(h.server.stop)  # the API's shutdown runs; it must not hang
        for peer in (idle, listening):
            code, frames = await peer.closed()
            assert (code, frames) == (1001, [])
    assert not h.api.started
