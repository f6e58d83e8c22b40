"""Bad input over HTTP on MongoDB, beyond the shared hostile corpus: ObjectIds that are not 24
hex digits, operator-looking values and keys, and regex metacharacters. Each is a clear 4xx (or
a literal match), and nothing is stored."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tbone import API, Model, Resource, field
from tbone.http import Request, Response
from tbone_mongo import ObjectId


class Order(Model):
    id: ObjectId = field(primary_key=True, factory=ObjectId.new)
    customer: ObjectId | None = None
    note: str = ""
    extra: dict[str, Any] = field(factory=dict)


class OrderResource(Resource[Order]):
    model = Order
    name = "orders"
    filter_fields = {"customer": ["exact", "in"], "note": ["exact", "contains", "startswith"]}


@pytest.fixture
async def api(mongo_url: str) -> AsyncIterator[API]:
    api = API(stores=mongo_url)
    api.register(OrderResource)
    async with api:
        yield api


async def call(api: API, method: str, path: str, body: Any = None, query: str = "") -> Response:
    raw = b"" if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} if body is not None else {}
    return await api.handle(Request(method, path, query, headers, raw))


@pytest.mark.parametrize("bad", ["nothex0000000000000000000", "abc", "0" * 25, "65f0c0ffee"])
async def test_object_ids_that_are_not_24_hex_digits(api: API, bad: str) -> None:
    assert (await call(api, "GET", f"/api/orders/{bad}")).status == 404
    assert (await call(api, "DELETE", f"/api/orders/{bad}")).status == 404
    assert (await call(api, "POST", "/api/orders", {"customer": bad})).status == 422
    assert (await call(api, "GET", "/api/orders", query=f"customer={bad}")).status == 400
    assert await api.resource("orders").collection.count() == 0


@pytest.mark.parametrize(
    "body",
    [
        {"note": {"$ne": None}},
        {"customer": {"$gt": ""}},
        {"$where": "1"},
        {"note": "x", "extra": {"$set": 1, "a.b": 2, "": 3}},
    ],
)
async def test_operator_looking_values_are_data_or_refused(api: API, body: Any) -> None:
    response = await call(api, "POST", "/api/orders", body)
    if response.status == 201:  # free-form data: stored as given, read back as given
        created = json.loads(response.body)
        again = await call(api, "GET", f"/api/orders/{created['id']}")
        assert json.loads(again.body)["extra"] == body["extra"]
    else:
        assert response.status == 422
        assert await api.resource("orders").collection.count() == 0


async def test_regex_metacharacters_are_literal(api: API) -> None:
    await call(api, "POST", "/api/orders", {"note": "a.b*c"})
    await call(api, "POST", "/api/orders", {"note": "axbbbc"})
    for query, count in [
        ("note__contains=.*", 0),
        ("note__contains=b*", 1),
        ("note__startswith=^a", 0),
    ]:
        page = json.loads((await call(api, "GET", "/api/orders", query=query)).body)
        assert page["meta"]["total_count"] == count, query
    page = json.loads((await call(api, "GET", "/api/orders", query="note=a.b*c")).body)
    assert page["meta"]["total_count"] == 1
