"""A small bookstore API and a sans-io client that calls ``api.handle`` directly."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tbone import API, Model, Resource, field
from tbone.http import Request, Response


class Book(Model):
    title: str = field(min_length=1, max_length=200)
    author: str
    year: int | None = field(default=None, ge=0, le=3000)
    tags: list[str] = field(factory=list)
    owner: str = field(default="", read_only=True)
    cost: float = field(default=0.0, private=True)
    secret: str = field(default="", write_only=True)


class BookResource(Resource[Book]):
    model = Book
    name = "books"
    filter_fields = {
        "author": ["exact", "in"],
        "year": ["exact", "gte", "lte"],
        "tags": ["contains"],
    }
    order_fields = ("year", "title")
    default_order = ("title",)
    search_fields = ("title", "author")
    page_size = 2
    max_page_size = 5


class Client:
    """Calls the API without a server: what transports do, minus the sockets."""

    def __init__(self, api: API) -> None:
        self.api = api

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: str = "",
        headers: dict[str, str] | None = None,
    ) -> Response:
        hdrs = dict(headers or {})
        raw = b""
        if isinstance(body, bytes):  # sent exactly as given, headers and all
            raw = body
        elif body is not None:
            raw = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        return await self.api.handle(Request(method, path, query, hdrs, raw))

    async def json(
        self, method: str, path: str, body: Any = None, *, status: int, **kw: Any
    ) -> Any:
        response = await self.request(method, path, body, **kw)
        assert response.status == status, response.body
        return json.loads(response.body) if response.body else None


@pytest.fixture
async def api() -> AsyncIterator[API]:
    api = API(prefix="/api")
    api.register(BookResource)
    async with api:
        yield api


@pytest.fixture
def client(api: API) -> Client:
    return Client(api)
