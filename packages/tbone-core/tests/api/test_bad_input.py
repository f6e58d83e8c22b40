"""Hostile and malformed requests: the right 4xx problem, and nothing stored or changed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tbone import API

from .conftest import Client


async def stored(api: API) -> list[dict[str, Any]]:
    page = await api.resource("books").collection.find()
    return [b.to_data(full=True) for b in page]


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (b"{bad json", {"Content-Type": "application/json"}, 400),
        (b"", {"Content-Type": "application/json"}, 400),
        (b'{"title": NaN, "author": "a"}', {"Content-Type": "application/json"}, 400),
        (b"\xff\xfe", {"Content-Type": "application/json"}, 400),
        (b"[" * 100_000 + b"]" * 100_000, {"Content-Type": "application/json"}, 400),
        (b'{"title": "t", "author": "a"}', {"Content-Type": "text/plain"}, 415),
        (b'{"title": "t", "author": "a"}', {}, 415),
        (b'"just a string"', {"Content-Type": "application/json"}, 422),
        (b"[1, 2]", {"Content-Type": "application/json"}, 422),
        (b'{"title": 5, "author": ["a"]}', {"Content-Type": "application/json"}, 422),
        (
            b'{"title": "t", "author": "a", "colour": "red"}',
            {"Content-Type": "application/json"},
            422,
        ),
        (b'{"$set": {"title": "x"}}', {"Content-Type": "application/json"}, 422),
        (b'{"title": {"$ne": 1}, "author": "a"}', {"Content-Type": "application/json"}, 422),
        (b"x" * (2 << 20), {"Content-Type": "application/json"}, 413),
    ],
)
async def test_bad_bodies_are_problems_and_store_nothing(
    api: API, client: Client, body: bytes, headers: dict[str, str], status: int
) -> None:
    response = await client.request("POST", "/api/books", body, headers=headers)
    assert response.status == status, response.body[:300]
    problem = json.loads(response.body)
    assert problem["status"] == status
    assert problem["title"]
    assert response.header("Content-Type") == "application/problem+json"
    assert await stored(api) == []


@pytest.mark.parametrize(
    "query",
    [
        "author__where=x",
        "$where=1",
        "author[$ne]=x",
        "cost=1",
        "title=Dune",
        "year=abc",
        "year__gte=1e3",
        "limit=-1",
        "limit=1000000",
        "offset=-5",
        "offset=99999999999999999999",
        "limit=abc",
        "cursor=garbage",
        "cursor=eyJ2IjogWzFdfQ==",
        "order_by=cost",
        "order_by=-secret",
        "fields=nope",
    ],
)
async def test_bad_queries_are_400_problems(api: API, client: Client, query: str) -> None:
    await client.json(
        "POST", "/api/books", {"title": "Dune", "author": "Herbert", "year": 1965}, status=201
    )
    before = await stored(api)
    response = await client.request("GET", "/api/books", query=query)
    assert response.status == 400, (query, response.body)
    assert json.loads(response.body)["errors"]
    assert await stored(api) == before


async def test_operator_injection_in_patch_changes_nothing(api: API, client: Client) -> None:
    book = await client.json(
        "POST", "/api/books", {"title": "Dune", "author": "Herbert"}, status=201
    )
    before = await stored(api)
    for body in (
        {"$set": {"title": "x"}},
        {"title": {"$ne": None}},
        {"year": {"$gt": 0}},
        [{"title": "x"}],
    ):
        response = await client.request("PATCH", f"/api/books/{book['id']}", body)
        assert response.status == 422, body
    assert await stored(api) == before


async def test_unicode_and_percent_encoded_ids(client: Client) -> None:
    for pk in ("%E2%98%83", "a%2Fb", "%00", "..", "%ZZ", "x" * 5000):
        response = await client.request("GET", f"/api/books/{pk}")
        assert response.status == 404, pk
    unicode = await client.json(
        "POST", "/api/books", {"title": "Señor ☃ 🐍", "author": "Ωmega"}, status=201
    )
    again = await client.json("GET", f"/api/books/{unicode['id']}", status=200)
    assert again["title"] == "Señor ☃ 🐍"


async def test_server_keeps_serving_after_errors(client: Client) -> None:
    for _ in range(3):
        bad = await client.request(
            "POST", "/api/books", b"{", headers={"Content-Type": "application/json"}
        )
        assert bad.status == 400
    assert (await client.request("POST", "/api/books", {"title": "t", "author": "a"})).status == 201
