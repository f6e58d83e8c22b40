"""HTTP behaviours of the REST table (DESIGN §5): what a well-formed request gets back."""

from __future__ import annotations

from urllib.parse import quote

from .harness import Harness, assert_json, assert_problem, behaviour

__all__: list[str] = []


def _titles(body: dict[str, object]) -> list[object]:
    objects = body["objects"]
    assert isinstance(objects, list)
    return [o["title"] for o in objects]


@behaviour("list_shape")
async def list_shape(h: Harness) -> None:
    await h.seed()
    body = assert_json(await h.request("GET", "/api/books"), 200)
    assert set(body) == {"objects", "meta"}
    meta = body["meta"]
    assert {"total_count", "limit", "offset", "next", "previous"} <= set(meta)
    assert (meta["total_count"], meta["limit"], meta["offset"]) == (8, 5, 0)
    assert meta["previous"] is None
    assert isinstance(meta["next"], str)
    assert meta["next"].startswith("/api/books?")
    assert _titles(body) == ["Der Process", "Dune", "Dune Messiah", "Emma", "Ficciones"]


@behaviour("trailing_slash_optional")
async def trailing_slash_optional(h: Harness) -> None:
    books = await h.seed()
    assert (await h.request("GET", "/api/books/")).json() == (
        await h.request("GET", "/api/books")
    ).json()
    detail = f"/api/books/{books[0]['id']}"
    assert assert_json(await h.request("GET", detail + "/"), 200) == books[0]
    assert assert_json(await h.request("GET", "/api/"), 200) == assert_json(
        await h.request("GET", "/api"), 200
    )


@behaviour("index_and_openapi")
async def index_and_openapi(h: Harness) -> None:
    index = assert_json(await h.request("GET", "/api"), 200)
    assert index["resources"] == {"authors": "/api/authors", "books": "/api/books"}
    spec = assert_json(await h.request("GET", "/api/openapi.json"), 200)
    assert spec["openapi"].startswith("3.1")


@behaviour("list_filters")
async def list_filters(h: Harness) -> None:
    await h.seed()
    get = h.request
    body = assert_json(await get("GET", "/api/books?author=Herbert"), 200)
    assert _titles(body) == ["Dune", "Dune Messiah"]
    assert body["meta"]["total_count"] == 2
    body = assert_json(await get("GET", "/api/books?year__gte=1960&year__lte=1970"), 200)
    assert _titles(body) == ["Dune", "Dune Messiah", "Solaris"]
    body = assert_json(await get("GET", "/api/books?author__in=Lem,Borges"), 200)
    assert _titles(body) == ["Ficciones", "Solaris"]
    body = assert_json(await get("GET", "/api/books?tags__contains=classic&limit=50"), 200)
    assert _titles(body) == ["Der Process", "Emma", "Persuasion"]
    body = assert_json(await get("GET", "/api/books?in_print=false"), 200)
    assert _titles(body) == ["Solaris"]
    # the raw query string reaches core: %26 is part of the value, + and %20 are spaces
    body = assert_json(await get("GET", "/api/books?author=Kafka%20%26%20Brod"), 200)
    assert _titles(body) == ["Der Process"]
    body = assert_json(await get("GET", "/api/books?author=Le+Guin"), 200)
    assert _titles(body) == ["The Dispossessed"]
    body = assert_json(await get("GET", "/api/books?author=Nobody"), 200)
    assert body["objects"] == []
    assert body["meta"]["total_count"] == 0


@behaviour("list_order_by")
async def list_order_by(h: Harness) -> None:
    await h.seed()
    body = assert_json(await h.request("GET", "/api/books?order_by=-year,title&limit=4"), 200)
    assert _titles(body) == ["The Dispossessed", "Dune Messiah", "Dune", "Solaris"]
    body = assert_json(await h.request("GET", "/api/books?order_by=author,-title&limit=3"), 200)
    assert _titles(body) == ["Persuasion", "Emma", "Ficciones"]


@behaviour("list_pagination")
async def list_pagination(h: Harness) -> None:
    await h.seed()
    first = assert_json(await h.request("GET", "/api/books?limit=3"), 200)
    assert _titles(first) == ["Der Process", "Dune", "Dune Messiah"]
    second = assert_json(await h.request("GET", first["meta"]["next"]), 200)
    assert _titles(second) == ["Emma", "Ficciones", "Persuasion"]
    assert (second["meta"]["limit"], second["meta"]["offset"]) == (3, 3)
    last = assert_json(await h.request("GET", second["meta"]["next"]), 200)
    assert _titles(last) == ["Solaris", "The Dispossessed"]
    assert last["meta"]["next"] is None
    back = assert_json(await h.request("GET", last["meta"]["previous"]), 200)
    assert back == second
    empty = assert_json(await h.request("GET", "/api/books?offset=100"), 200)
    assert empty["objects"] == []
    assert empty["meta"]["total_count"] == 8


@behaviour("list_cursor_pagination")
async def list_cursor_pagination(h: Harness) -> None:
    await h.seed()
    seen: list[object] = []
    url = "/api/books?limit=3&order_by=year"
    page = assert_json(await h.request("GET", url), 200)
    seen += _titles(page)
    for _ in range(5):
        cursor = page["meta"].get("cursor")
        if not cursor:
            break
        page = assert_json(await h.request("GET", f"{url}&cursor={cursor}"), 200)
        seen += _titles(page)
    by_year = ["Emma", "Persuasion", "Der Process", "Ficciones", "Solaris", "Dune"]
    assert seen == [*by_year, "Dune Messiah", "The Dispossessed"]


@behaviour("list_fields")
async def list_fields(h: Harness) -> None:
    await h.seed()
    body = assert_json(await h.request("GET", "/api/books?fields=title,year&limit=2"), 200)
    assert [set(o) for o in body["objects"]] == [{"id", "title", "year"}] * 2
    assert body["objects"][0]["title"] == "Der Process"


@behaviour("list_search")
async def list_search(h: Harness) -> None:
    await h.seed()
    body = assert_json(await h.request("GET", "/api/books?q=dune"), 200)
    assert _titles(body) == ["Dune", "Dune Messiah"]
    body = assert_json(await h.request("GET", "/api/books?q=GUIN"), 200)
    assert _titles(body) == ["The Dispossessed"]


@behaviour("detail_etag_and_304")
async def detail_etag_and_304(h: Harness) -> None:
    books = await h.seed()
    url = f"/api/books/{books[0]['id']}"
    response = await h.request("GET", url)
    assert assert_json(response, 200) == books[0]
    etag = response.headers["etag"]
    assert etag.startswith('"')
    assert etag.endswith('"')
    cached = await h.request("GET", url, headers={"If-None-Match": etag})
    assert cached.status_code == 304
    assert cached.content == b""
    assert cached.headers["etag"] == etag
    assert "content-type" not in cached.headers
    # a repeated header reaches core as one list: the second line matches
    repeated = await h.request(
        "GET", url, headers=[("If-None-Match", '"nope"'), ("If-None-Match", etag)]
    )
    assert repeated.status_code == 304
    other = await h.request("GET", url, headers={"If-None-Match": '"nope"'})
    assert assert_json(other, 200) == books[0]


@behaviour("create_single_with_location")
async def create_single_with_location(h: Harness) -> None:
    data = {"title": "Kindred", "author": "Butler", "year": 1979, "tags": ["scifi"]}
    response = await h.request("POST", "/api/books", json=data)
    created = assert_json(response, 201)
    assert {k: created[k] for k in data} == data
    assert created["status"] == "draft"
    assert created["in_print"] is True
    location = response.headers["location"]
    assert location == f"/api/books/{quote(created['id'], safe='')}"
    assert "etag" in response.headers
    fetched = await h.request("GET", location)
    assert assert_json(fetched, 200) == created
    assert fetched.headers["etag"] == response.headers["etag"]


@behaviour("create_bulk")
async def create_bulk(h: Harness) -> None:
    books = await h.seed()
    assert [b["title"] for b in books] == [
        "Dune",
        "Dune Messiah",
        "Emma",
        "Persuasion",
        "The Dispossessed",
        "Solaris",
        "Ficciones",
        "Der Process",
    ]
    assert len({b["id"] for b in books}) == 8
    for book in books:
        assert assert_json(await h.request("GET", f"/api/books/{book['id']}"), 200) == book


@behaviour("replace_put")
async def replace_put(h: Harness) -> None:
    books = await h.seed()
    url = f"/api/books/{books[0]['id']}"
    response = await h.request("PUT", url, json={"title": "Dune (revised)", "author": "Herbert"})
    replaced = assert_json(response, 200)
    assert replaced["title"] == "Dune (revised)"
    assert replaced["year"] is None
    assert replaced["tags"] == []
    assert replaced["id"] == books[0]["id"]
    assert replaced["status"] == "draft"
    assert response.headers["etag"] != (await h.request("GET", "/api/books")).headers.get("etag")
    assert assert_json(await h.request("GET", url), 200) == replaced


@behaviour("update_patch")
async def update_patch(h: Harness) -> None:
    books = await h.seed()
    url = f"/api/books/{books[0]['id']}"
    before = await h.request("GET", url)
    response = await h.request("PATCH", url, json={"year": 1999})
    updated = assert_json(response, 200)
    assert updated == {**books[0], "year": 1999}
    assert response.headers["etag"] != before.headers["etag"]
    assert assert_json(await h.request("GET", url), 200) == updated


@behaviour("delete_204")
async def delete_204(h: Harness) -> None:
    books = await h.seed()
    url = f"/api/books/{books[0]['id']}"
    response = await h.request("DELETE", url)
    assert response.status_code == 204
    assert response.content == b""
    assert "content-type" not in response.headers
    assert_problem(await h.request("GET", url), 404)
    assert_problem(await h.request("DELETE", url), 404)
    listing = assert_json(await h.request("GET", "/api/books"), 200)
    assert listing["meta"]["total_count"] == 7


@behaviour("if_match_412")
async def if_match_412(h: Harness) -> None:
    books = await h.seed()
    url = f"/api/books/{books[0]['id']}"
    old = (await h.request("GET", url)).headers["etag"]
    fresh = await h.request("PATCH", url, json={"year": 1966}, headers={"If-Match": old})
    assert assert_json(fresh, 200)["year"] == 1966
    before = await h.snapshot()
    for method, body in (("PATCH", {"year": 1}), ("PUT", {"title": "X", "author": "Y"})):
        stale = await h.request(method, url, json=body, headers={"If-Match": old})
        assert_problem(stale, 412)
    assert_problem(await h.request("DELETE", url, headers={"If-Match": old}), 412)
    assert_problem(await h.request("PATCH", url, json={}, headers={"If-Match": '"zz"'}), 412)
    await h.assert_unchanged(before)
    current = fresh.headers["etag"]
    assert (await h.request("DELETE", url, headers={"If-Match": current})).status_code == 204


@behaviour("head_like_get_without_body")
async def head_like_get_without_body(h: Harness) -> None:
    books = await h.seed()
    for url in ("/api/books", f"/api/books/{books[0]['id']}", "/api"):
        get = await h.request("GET", url)
        head = await h.request("HEAD", url)
        assert head.status_code == get.status_code == 200
        assert head.content == b""
        for name in ("content-type", "etag"):
            assert head.headers.get(name) == get.headers.get(name), name
        # RFC 9110 §9.3.2: the same Content-Length as GET, or none at all; never a wrong one
        length = head.headers.get("content-length")
        assert length is None or int(length) == len(get.content), (url, length)
    assert_problem(await h.request("GET", "/api/books/nope"), 404)
    missing = await h.request("HEAD", "/api/books/nope")
    assert missing.status_code == 404
    assert missing.content == b""


@behaviour("options_allow")
async def options_allow(h: Harness) -> None:
    books = await h.seed()
    cases = {
        "/api/books": "GET, HEAD, POST, OPTIONS",
        f"/api/books/{books[0]['id']}": "GET, HEAD, PUT, PATCH, DELETE, OPTIONS",
        "/api": "GET, HEAD, OPTIONS",
    }
    for url, allow in cases.items():
        response = await h.request("OPTIONS", url)
        assert response.status_code == 204, response.text
        assert response.headers["allow"] == allow
        assert response.content == b""


@behaviour("cors")
async def cors(h: Harness) -> None:
    preflight = await h.request(
        "OPTIONS",
        "/api/books",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "content-type" in preflight.headers["access-control-allow-headers"].lower()
    simple = await h.request("GET", "/api/books", headers={"Origin": "https://app.example"})
    assert simple.status_code == 200
    assert simple.headers["access-control-allow-origin"] == "*"
    assert "etag" in simple.headers["access-control-expose-headers"].lower()
    assert "access-control-allow-origin" not in (await h.request("GET", "/api/books")).headers


@behaviour("field_visibility")
async def field_visibility(h: Harness) -> None:
    data = {"title": "Kindred", "author": "Butler", "secret": "s3cret"}
    response = await h.request("POST", "/api/books", json={**data, "status": "published"})
    created = assert_json(response, 201)
    assert created["status"] == "draft"  # read-only: what the client sent is not stored
    url = response.headers["location"]
    for body in (
        created,
        assert_json(await h.request("GET", url), 200),
        assert_json(await h.request("GET", "/api/books"), 200)["objects"][0],
        assert_json(await h.request("PATCH", url, json={"secret": "other"}), 200),
    ):
        assert "secret" not in body, body
        assert "cost" not in body, body
    assert "s3cret" not in (await h.request("GET", "/api/books")).text
    # the generated id is read-only: sending it back is fine, sending another one is refused
    same = await h.request("PATCH", url, json={"id": created["id"], "year": 1979})
    assert assert_json(same, 200)["id"] == created["id"]
    other = await h.request("PATCH", url, json={"id": "other", "year": 1980})
    assert_problem(other, 422, loc=["id"])
    assert assert_json(await h.request("GET", url), 200)["year"] == 1979
    assert_problem(await h.request("GET", "/api/books/other"), 404)
    private = await h.request("POST", "/api/books", json={**data, "cost": 9.5})
    assert_problem(private, 422, loc=["cost"])  # private fields do not exist for clients


@behaviour("unicode_and_percent_encoded_ids")
async def unicode_and_percent_encoded_ids(h: Harness) -> None:
    names = ["Čapek", "Lem / Solaris", "50% ?&#=+", "山田 太郎", "a%2Fb"]
    for name in names:
        response = await h.request("POST", "/api/authors", json={"name": name, "country": "x"})
        created = assert_json(response, 201)
        assert created == {"name": name, "country": "x"}
        location = response.headers["location"]
        assert location == f"/api/authors/{quote(name, safe='')}"
        assert assert_json(await h.request("GET", location), 200) == created
    patched = await h.request("PATCH", "/api/authors/%C4%8Capek", json={"country": "CZ"})
    assert assert_json(patched, 200) == {"name": "Čapek", "country": "CZ"}
    # an encoded slash is part of the id, never a path separator
    assert_problem(await h.request("GET", "/api/authors/Lem%20/%20Solaris"), 404)
    assert_problem(await h.request("GET", "/api/books%2Fnope"), 404)
    listing = assert_json(await h.request("GET", "/api/authors?limit=50"), 200)
    assert sorted(o["name"] for o in listing["objects"]) == sorted(names)
