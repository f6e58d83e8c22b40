"""What an HTTP behaviour gets: a real client on a live server, plus checks every behaviour uses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import httpx

from ..suites import registrar
from .app import SEED_BOOKS
from .server import LiveServer

__all__ = ["BEHAVIOURS", "Harness", "HttpBehaviour", "assert_json", "assert_problem", "behaviour"]

PROBLEM_JSON = "application/problem+json"


@attrs.define
class Harness:
    """One live server and an ``httpx.AsyncClient`` talking to it."""

    server: LiveServer
    http: httpx.AsyncClient

    @property
    def api(self) -> Any:
        return self.server.api

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return await self.http.request(method, url, **kwargs)

    async def seed(self) -> list[dict[str, Any]]:
        """Create :data:`SEED_BOOKS` with one bulk POST; returns them as the API output them."""
        response = await self.http.post("/api/books", json=SEED_BOOKS)
        assert response.status_code == 201, response.text
        objects: list[dict[str, Any]] = response.json()["objects"]
        return objects

    async def snapshot(self) -> list[dict[str, Any]]:
        """Every book, as GET sees them, for "nothing changed" checks."""
        response = await self.http.get("/api/books", params={"limit": 50, "order_by": "title"})
        assert response.status_code == 200, response.text
        books: list[dict[str, Any]] = response.json()["objects"]
        authors = await self.http.get("/api/authors", params={"limit": 100})
        assert authors.status_code == 200, authors.text
        return [*books, *authors.json()["objects"]]

    async def assert_unchanged(self, before: list[dict[str, Any]]) -> None:
        """The server still answers, and the stored data is what it was."""
        assert await self.snapshot() == before


HttpBehaviour = Callable[[Harness], Awaitable[None]]
BEHAVIOURS: dict[str, HttpBehaviour] = {}


#: register an HTTP behaviour of the kit under a name (unique): ``@behaviour("name")``
behaviour = registrar(BEHAVIOURS, "transport")


def _assert_length(response: httpx.Response) -> None:
    declared = response.headers.get("content-length")
    if declared is not None:
        assert int(declared) == len(response.content), "Content-Length does not match the body"


def assert_json(response: httpx.Response, status: int) -> Any:
    """``response`` is ``status`` with a JSON body (and a correct Content-Length); its value."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers.get("content-type") == "application/json", response.headers
    _assert_length(response)
    return response.json()


def assert_problem(
    response: httpx.Response, status: int, *, loc: list[str | int] | None = None
) -> dict[str, Any]:
    """``response`` is an RFC 9457 problem document for ``status``; returns the document.

    ``loc`` must then appear among the ``errors`` locations.
    """
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers.get("content-type") == PROBLEM_JSON, response.headers
    _assert_length(response)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert isinstance(body["type"], str)
    assert body["type"]
    assert isinstance(body["title"], str)
    assert body["title"]
    assert "Traceback" not in response.text
    for error in body.get("errors", []):
        assert set(error) == {"loc", "msg", "type"}, error
    if loc is not None:
        assert loc in [e["loc"] for e in body.get("errors", [])], body
    return body
