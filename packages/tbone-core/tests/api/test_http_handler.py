"""The sans-io HTTP handler: every row of the HTTP table, without a server."""

from __future__ import annotations

import json

from tbone import API, CORS

from .conftest import BookResource, Client


async def seed(client: Client) -> list[dict[str, object]]:
    books = [
        {"title": "Dune", "author": "Herbert", "year": 1965, "tags": ["scifi"]},
        {"title": "Emma", "author": "Austen", "year": 1815},
        {"title": "Ubik", "author": "Dick", "year": 1969, "tags": ["scifi"]},
    ]
    created = await client.json("POST", "/api/books", books, status=201)
    return list(created["objects"])


async def test_create_returns_201_location_and_etag(client: Client) -> None:
    response = await client.request("POST", "/api/books", {"title": "Dune", "author": "Herbert"})
    assert response.status == 201
    body = json.loads(response.body)
    assert response.header("Location") == f"/api/books/{body['id']}"
    assert response.header("Content-Type") == "application/json"
    assert await client.json("GET", f"/api/books/{body['id']}", status=200) == body
    detail = await client.request("GET", f"/api/books/{body['id']}")
    assert response.header("ETag") == detail.header("ETag")  # the same representation


async def test_list_shape_filters_order_and_pagination(client: Client) -> None:
    await seed(client)
    page = await client.json("GET", "/api/books", status=200)
    assert [b["title"] for b in page["objects"]] == ["Dune", "Emma"]
    assert page["meta"]["total_count"] == 3
    assert page["meta"]["next"] == "/api/books?offset=2"
    assert page["meta"]["previous"] is None
    second = await client.json("GET", "/api/books", status=200, query="offset=2")
    assert [b["title"] for b in second["objects"]] == ["Ubik"]
    assert second["meta"]["previous"] == "/api/books?offset=0"
    scifi = await client.json(
        "GET", "/api/books", status=200, query="tags__contains=scifi&order_by=-year&fields=title"
    )
    assert scifi["objects"] == [
        {"id": scifi["objects"][0]["id"], "title": "Ubik"},
        {"id": scifi["objects"][1]["id"], "title": "Dune"},
    ]
    found = await client.json(
        "GET", "/api/books", status=200, query="author__in=Austen,Dick&year__gte=1900"
    )
    assert [b["title"] for b in found["objects"]] == ["Ubik"]
    searched = await client.json("GET", "/api/books", status=200, query="q=DUN")
    assert [b["title"] for b in searched["objects"]] == ["Dune"]


async def test_cursor_pagination_walks_every_object_once(client: Client) -> None:
    await seed(client)
    seen: list[str] = []
    page = await client.json("GET", "/api/books", status=200, query="cursor=&limit=1")
    # an empty cursor starts at the beginning, in offset mode
    seen += [b["title"] for b in page["objects"]]
    cursor = page["meta"]["cursor"]
    while cursor:
        page = await client.json("GET", "/api/books", status=200, query=f"limit=1&cursor={cursor}")
        seen += [b["title"] for b in page["objects"]]
        cursor = page["meta"]["cursor"]
        if page["meta"]["next"] is None:
            assert cursor is None
    assert seen == ["Dune", "Emma", "Ubik"]


async def test_detail_etag_and_conditional_requests(client: Client) -> None:
    book = (await seed(client))[0]
    url = f"/api/books/{book['id']}"
    response = await client.request("GET", url)
    etag = response.header("ETag")
    assert etag is not None
    assert etag.startswith('"')
    assert etag.endswith('"')
    not_modified = await client.request("GET", url, headers={"If-None-Match": etag})
    assert (not_modified.status, not_modified.body) == (304, b"")
    updated = await client.request("PATCH", url, {"year": 1966}, headers={"If-Match": etag})
    assert updated.status == 200
    new_etag = updated.header("ETag")
    assert new_etag not in (None, etag)
    assert (await client.request("GET", url)).header("ETag") == new_etag
    stale = await client.request("PATCH", url, {"year": 1967}, headers={"If-Match": etag})
    assert stale.status == 412
    assert stale.header("Content-Type") == "application/problem+json"
    assert (await client.json("GET", url, status=200))["year"] == 1966
    gone = await client.request("DELETE", url, headers={"If-Match": etag})
    assert gone.status == 412
    assert (await client.request("DELETE", url, headers={"If-Match": new_etag})).status == 204
    assert (await client.request("GET", url)).status == 404


async def test_if_match_compares_every_listed_tag_strongly(client: Client) -> None:
    book = (await seed(client))[0]
    url = f"/api/books/{book['id']}"
    etag = (await client.request("GET", url)).header("ETag")
    assert etag is not None
    weak = await client.request("PATCH", url, {"year": 1}, headers={"If-Match": f"W/{etag}"})
    assert weak.status == 412  # RFC 9110: If-Match uses the strong comparison
    listed = await client.request(
        "PATCH", url, {"year": 2}, headers={"If-Match": f'"nope", W/"x", {etag}'}
    )
    assert listed.status == 200  # any tag of the list may match, not only the first
    for header in ('"v\u00b2"', '"v\u0661"', '"v1"', "v1", ""):
        refused = await client.request("PATCH", url, {"year": 3}, headers={"If-Match": header})
        assert refused.status == 412, header
    assert (await client.json("GET", url, status=200))["year"] == 2


async def test_etags_do_not_repeat_after_delete_and_recreate(api: API, client: Client) -> None:
    created = await client.json("POST", "/api/books", {"title": "Dune", "author": "H"}, status=201)
    url = f"/api/books/{created['id']}"
    first = (await client.request("GET", url)).header("ETag")
    assert (await client.request("DELETE", url)).status == 204
    books = api.resource("books").collection
    await books.insert(
        books.model(id=created["id"], title="Emma", author="Austen")
    )  # version 1 again
    assert (await client.request("GET", url, headers={"If-None-Match": first})).status == 200
    overwrite = await client.request(
        "PUT", url, {"title": "Dune", "author": "H"}, headers={"If-Match": first}
    )
    assert overwrite.status == 412
    assert (await client.json("GET", url, status=200))["title"] == "Emma"


async def test_if_match_on_a_missing_object_is_412(client: Client) -> None:
    created = await client.json("POST", "/api/books", {"title": "Dune", "author": "H"}, status=201)
    url = f"/api/books/{created['id']}"
    etag = (await client.request("GET", url)).header("ETag")
    assert (await client.request("DELETE", url)).status == 204
    # the loser of a DELETE race: its precondition is false, not its URL unknown
    assert (await client.request("DELETE", url, headers={"If-Match": etag})).status == 412
    assert (await client.request("DELETE", url, headers={"If-Match": "*"})).status == 412
    assert (await client.request("DELETE", url)).status == 404


async def test_put_replaces_writable_fields_and_keeps_server_ones(api: API, client: Client) -> None:
    book = (await seed(client))[0]
    url = f"/api/books/{book['id']}"
    stored = await api.resource("books").collection.get(book["id"])
    assert stored is not None
    stored.cost = 9.5
    await api.resource("books").collection.replace(stored)
    replaced = await client.json(
        "PUT", url, {"title": "Dune Messiah", "author": "Herbert", "owner": "mallory"}, status=200
    )
    assert replaced["year"] is None
    assert replaced["owner"] == ""
    again = await api.resource("books").collection.get(book["id"])
    assert again is not None
    assert again.cost == 9.5


async def test_head_options_and_405(client: Client) -> None:
    book = (await seed(client))[0]
    head = await client.request("HEAD", f"/api/books/{book['id']}")
    get = await client.request("GET", f"/api/books/{book['id']}")
    assert (head.status, head.body, head.header("ETag")) == (200, b"", get.header("ETag"))
    options = await client.request("OPTIONS", "/api/books")
    assert options.status == 204
    assert options.header("Allow") == "GET, HEAD, POST, OPTIONS"
    refused = await client.request("DELETE", "/api/books")
    assert refused.status == 405
    assert refused.header("Allow") == "GET, HEAD, POST, OPTIONS"


async def test_trailing_slash_is_optional(client: Client) -> None:
    book = (await seed(client))[0]
    assert (await client.request("GET", "/api/books/")).status == 200
    assert (await client.request("GET", f"/api/books/{book['id']}/")).status == 200


async def test_read_only_write_only_and_private_fields(client: Client) -> None:
    created = await client.json(
        "POST", "/api/books", {"title": "T", "author": "A", "owner": "x", "secret": "s"}, status=201
    )
    assert created["owner"] == ""
    assert "secret" not in created
    assert "cost" not in created
    refused = await client.json(
        "POST", "/api/books", {"title": "T", "author": "A", "cost": 1}, status=422
    )
    assert refused["errors"] == [
        {"loc": ["cost"], "msg": "unknown field", "type": "extra_forbidden"}
    ]
    fields = await client.json("GET", "/api/books", status=400, query="fields=cost")
    assert fields["errors"][0]["loc"] == ["fields"]


async def test_bulk_create_is_all_or_nothing(client: Client) -> None:
    problem = await client.json(
        "POST", "/api/books", [{"title": "ok", "author": "a"}, {"title": ""}], status=422
    )
    assert sorted(tuple(e["loc"]) for e in problem["errors"]) == [(1, "author"), (1, "title")]
    assert (await client.json("GET", "/api/books", status=200))["meta"]["total_count"] == 0
    too_many = await client.request("POST", "/api/books", [{"title": "t", "author": "a"}] * 101)
    assert too_many.status == 413


async def test_cors_headers_and_preflight() -> None:
    api = API(cors=CORS(origins=["https://app.example"]))
    api.register(BookResource)
    client = Client(api)
    async with api:
        simple = await client.request(
            "GET", "/api/books", headers={"Origin": "https://app.example"}
        )
        assert simple.header("Access-Control-Allow-Origin") == "https://app.example"
        assert simple.header("Access-Control-Expose-Headers") == "ETag, Location"
        preflight = await client.request(
            "OPTIONS",
            "/api/books",
            headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"},
        )
        assert preflight.status == 204
        assert preflight.header("Access-Control-Allow-Methods") == "GET, HEAD, POST, OPTIONS"
        other = await client.request(
            "GET", "/api/books", headers={"Origin": "https://evil.example"}
        )
        assert other.header("Access-Control-Allow-Origin") is None


async def test_api_index_and_unknown_paths(client: Client) -> None:
    index = await client.json("GET", "/api", status=200)
    assert index["resources"] == {"books": "/api/books"}
    for path in ("/nope", "/api/nope", "/api/books/1/2", "/apibooks"):
        response = await client.request("GET", path)
        assert response.status == 404, path
        assert response.header("Content-Type") == "application/problem+json"


async def test_sending_back_what_was_read_works_with_computed_fields_and_declared_keys() -> None:
    from tbone import Model, Resource, computed, field

    class Rate(Model):
        code: str = field(primary_key=True)
        value: float = 0.0
        note: str = field(default="", private=True)

        @computed
        def label(self) -> str:
            return f"{self.code}={self.value}"

    class RateResource(Resource[Rate]):
        model = Rate
        name = "rates"

    api = API()
    api.register(RateResource)
    async with api:
        client = Client(api)
        created = await client.json("POST", "/api/rates", {"code": "eur", "value": 1.5}, status=201)
        assert created["label"] == "eur=1.5"
        back = await client.json("PUT", "/api/rates/eur", {**created, "value": 2.0}, status=200)
        assert back["label"] == "eur=2.0"
        without_key = await client.json("PUT", "/api/rates/eur", {"value": 3.0}, status=200)
        assert without_key["code"] == "eur"
        problem = await client.json("POST", "/api/rates", {"code": "x", "bogus": 1}, status=422)
        assert "note" not in problem["errors"][0]["msg"]
        assert "value" in problem["errors"][0]["msg"]


async def test_plain_http_to_the_websocket_endpoint_is_426(client: Client) -> None:
    response = await client.request("GET", "/api/ws")
    assert response.status == 426
    assert response.header("Upgrade") == "websocket"
    assert response.header("Content-Type") == "application/problem+json"
