"""HTTP behaviours for bad input: each gets the right 4xx problem, and nothing changes.

Every behaviour ends by checking that the server still answers and the stored data is exactly
what it was before the bad requests.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from .harness import Harness, assert_json, assert_problem, behaviour

__all__: list[str] = []

_JSON = {"Content-Type": "application/json"}
_VALID = {"title": "Kindred", "author": "Butler"}


@behaviour("not_found")
async def not_found(h: Harness) -> None:
    books = await h.seed()
    before = await h.snapshot()
    for url in ("/api/books/nope", "/api/nothing", "/api/nothing/1", "/api/books/x/y"):
        assert_problem(await h.request("GET", url), 404)
    assert_problem(await h.request("PATCH", "/api/books/nope", json={"year": 1}), 404)
    assert_problem(await h.request("GET", f"/api/books/{books[0]['id']}/extra"), 404)
    await h.assert_unchanged(before)


@behaviour("method_not_allowed")
async def method_not_allowed(h: Harness) -> None:
    books = await h.seed()
    before = await h.snapshot()
    item = f"/api/books/{books[0]['id']}"
    cases = [
        ("DELETE", "/api/books", "GET, HEAD, POST, OPTIONS"),
        ("PUT", "/api/books", "GET, HEAD, POST, OPTIONS"),
        ("POST", item, "GET, HEAD, PUT, PATCH, DELETE, OPTIONS"),
        ("DELETE", "/api", "GET, HEAD, OPTIONS"),
        ("PROPFIND", "/api/books", "GET, HEAD, POST, OPTIONS"),  # unknown to most routers
        ("TRACE", item, "GET, HEAD, PUT, PATCH, DELETE, OPTIONS"),
    ]
    for method, url, allow in cases:
        response = await h.request(method, url, json={"title": "x"})
        assert_problem(response, 405)
        assert response.headers["allow"] == allow
    await h.assert_unchanged(before)


@behaviour("body_too_large")
async def body_too_large(h: Harness) -> None:
    await h.seed()
    before = await h.snapshot()
    limit = h.api.max_body_size
    huge = b'{"title": "' + b"x" * (20 * 1024 * 1024) + b'", "author": "A"}'
    assert_problem(await h.request("POST", "/api/books", content=huge, headers=_JSON), 413)

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the cap applies while reading
        yield b'{"title": "'
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536
        yield b'", "author": "A"}'

    streamed = await h.request("POST", "/api/books", content=chunks(), headers=_JSON)
    assert_problem(streamed, 413)
    just_over = b'{"title": "' + b"x" * limit + b'"}'
    assert_problem(await h.request("POST", "/api/books", content=just_over, headers=_JSON), 413)
    await h.assert_unchanged(before)


@behaviour("unsupported_media_type")
async def unsupported_media_type(h: Harness) -> None:
    await h.seed()
    before = await h.snapshot()
    body = b'{"title": "Kindred", "author": "Butler"}'
    for headers in ({"Content-Type": "text/plain"}, {"Content-Type": "application/xml"}, {}):
        response = await h.request("POST", "/api/books", content=body, headers=headers)
        assert_problem(response, 415)
    form = await h.request("POST", "/api/books", data=_VALID)
    assert_problem(form, 415)
    await h.assert_unchanged(before)


@behaviour("malformed_json")
async def malformed_json(h: Harness) -> None:
    books = await h.seed()
    before = await h.snapshot()
    bodies = [
        b'{"title": "Kindred", ',
        b"",
        b"   ",
        b"{'title': 'single quotes'}",
        b'{"title": NaN, "author": "A"}',
        b'{"title": "\xff\xfe", "author": "A"}',
        b"[" * 100_000 + b"]" * 100_000,
    ]
    item = f"/api/books/{books[0]['id']}"
    for body in bodies:
        for method, url in (("POST", "/api/books"), ("PATCH", item), ("PUT", item)):
            response = await h.request(method, url, content=body, headers=_JSON)
            assert_problem(response, 400)
    await h.assert_unchanged(before)


@behaviour("wrong_json_shape")
async def wrong_json_shape(h: Harness) -> None:
    books = await h.seed()
    before = await h.snapshot()
    item = f"/api/books/{books[0]['id']}"
    for body in ([_VALID], "Kindred", 42, None, True):
        for method in ("PATCH", "PUT"):
            content = json.dumps(body).encode()
            assert_problem(await h.request(method, item, content=content, headers=_JSON), 422)
    for body in ("Kindred", 42, None):
        content = json.dumps(body).encode()
        assert_problem(await h.request("POST", "/api/books", content=content, headers=_JSON), 422)
    assert_problem(await h.request("POST", "/api/books", json=[_VALID, 1]), 422, loc=[1])
    await h.assert_unchanged(before)


@behaviour("validation_errors")
async def validation_errors(h: Harness) -> None:
    books = await h.seed()
    before = await h.snapshot()
    post = "/api/books"
    problem = assert_problem(
        await h.request("POST", post, json={"title": "", "year": "abc"}), 422, loc=["title"]
    )
    locs = [e["loc"] for e in problem["errors"]]
    assert ["year"] in locs
    assert ["author"] in locs
    assert_problem(await h.request("POST", post, json={**_VALID, "bogus": 1}), 422, loc=["bogus"])
    assert_problem(await h.request("POST", post, json={**_VALID, "year": 5000}), 422, loc=["year"])
    assert_problem(await h.request("POST", post, json={"title": 5, "author": "A"}), 422)
    assert_problem(await h.request("POST", post, json={**_VALID, "tags": "scifi"}), 422)
    bulk = [_VALID, {"title": "ok"}, {**_VALID, "year": -1}]
    problem = assert_problem(await h.request("POST", post, json=bulk), 422, loc=[1, "author"])
    assert [2, "year"] in [e["loc"] for e in problem["errors"]]
    item = f"/api/books/{books[0]['id']}"
    assert_problem(await h.request("PATCH", item, json={"year": "soon"}), 422, loc=["year"])
    assert_problem(await h.request("PUT", item, json={"title": "No author"}), 422)
    await h.assert_unchanged(before)


@behaviour("bad_filters_and_params")
async def bad_filters_and_params(h: Harness) -> None:
    await h.seed()
    before = await h.snapshot()
    queries = [
        "bogus=1",
        "title=Dune",  # a field, but not a filter field
        "cost=0",  # private
        "secret=x",  # write-only
        "year__regex=1.*",  # no such lookup
        "author__icontains=her",  # a lookup, but not allowed on this field
        "year=nineteen",  # value of the wrong type
        "year__gte=",
        "in_print=maybe",
        "order_by=cost",
        "order_by=secret",
        "order_by=bogus",
        "fields=cost",
        "fields=secret,title",
        "fields=bogus",
    ]
    for query in queries:
        assert_problem(await h.request("GET", f"/api/books?{query}"), 400)
    await h.assert_unchanged(before)


@behaviour("operator_injection")
async def operator_injection(h: Harness) -> None:
    books = await h.seed()
    before = await h.snapshot()
    for query in (
        "author__where=1",
        "$where=sleep(1000)",
        "author[$ne]=x",
        "author%5B%24ne%5D=x",
        "year__$gt=0",
        "$or=[]",
        "author__regex=.*",
    ):
        assert_problem(await h.request("GET", f"/api/books?{query}"), 400)
    # operators inside values are plain strings, matched literally
    for value in ('{"$ne": null}', "$ne", "[$ne]"):
        response = await h.request("GET", "/api/books", params={"author": value})
        assert assert_json(response, 200)["objects"] == []
    item = f"/api/books/{books[0]['id']}"
    bodies = [
        {"$set": {"title": "pwned"}},
        {"title": {"$ne": None}, "author": "A"},
        {"author": {"$gt": ""}, "title": "x"},
        {**_VALID, "$where": "1"},
    ]
    for body in bodies:
        assert_problem(await h.request("POST", "/api/books", json=body), 422)
        assert_problem(await h.request("PATCH", item, json=body), 422)
        assert_problem(await h.request("PUT", item, json=body), 422)
    await h.assert_unchanged(before)


@behaviour("bad_limit_and_offset")
async def bad_limit_and_offset(h: Harness) -> None:
    await h.seed()
    before = await h.snapshot()
    for query in (
        "limit=-1",
        "limit=abc",
        "limit=1.5",
        "limit=51",  # above max_page_size
        "limit=" + "9" * 40,
        "offset=-5",
        "offset=" + "9" * 40,
        "offset=1e3",
    ):
        assert_problem(await h.request("GET", f"/api/books?{query}"), 400)
    assert assert_json(await h.request("GET", "/api/books?limit=50"), 200)["meta"]["limit"] == 50
    await h.assert_unchanged(before)


@behaviour("garbage_cursors")
async def garbage_cursors(h: Harness) -> None:
    await h.seed()
    before = await h.snapshot()
    first = assert_json(await h.request("GET", "/api/books?limit=2&order_by=year"), 200)
    real = first["meta"]["cursor"]
    assert isinstance(real, str)
    assert real
    for cursor in ("garbage", "!!!!", "eyJ9", "e30", real[:-3] + "AAA", "A" * 5000, "%00"):
        response = await h.request("GET", "/api/books", params={"cursor": cursor})
        assert_problem(response, 400)
    # a cursor is bound to its ordering
    other = await h.request("GET", "/api/books", params={"cursor": real, "order_by": "-title"})
    assert_problem(other, 400)
    await h.assert_unchanged(before)


@behaviour("odd_ids")
async def odd_ids(h: Harness) -> None:
    await h.seed()
    before = await h.snapshot()
    for pk in ("%00", "%2E%2E", "%E2%80%AE", "x" * 2000, "%20", "null"):
        response = await h.request("GET", f"/api/books/{pk}")
        assert_problem(response, 404)
        assert_problem(await h.request("DELETE", f"/api/books/{pk}"), 404)
    for pk in ("%FF%FE", "%ED%A0%80"):  # not UTF-8 (the second a UTF-16 surrogate): no key
        assert_problem(await h.request("GET", f"/api/books/{pk}"), 400)
        assert_problem(await h.request("DELETE", f"/api/books/{pk}"), 400)
    await h.assert_unchanged(before)
    assert_json(await h.request("GET", "/api/books"), 200)
