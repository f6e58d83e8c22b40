"""Every adapter (aiohttp, Sanic, ASGI under uvicorn and hypercorn), on every store in this
repo, answers the same requests identically.

One script of requests (good and bad) runs against a real server per (transport, store); every
answer is reduced to its status, the headers that carry meaning and its body (generated ids and
cursors replaced by stable names), and all runs must agree with the first.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from pathlib import Path
from typing import Any

import httpx

from tbone import plugins
from tbone.testing.transport import LiveServer, build_api
from tbone.testing.transport.app import SEED_BOOKS

TRANSPORTS = ["aiohttp", "sanic", "asgi", "hypercorn"]


def _transport(name: str) -> Any:
    """A transport name, or a server another transport runs (hypercorn: the asgi transport's)."""
    if name == "hypercorn":
        return plugins.load("transport", "asgi")(server="hypercorn")
    return name


RELEVANT = (
    "content-type",
    "content-length",
    "location",
    "etag",
    "allow",
    "vary",
    "access-control-allow-origin",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-expose-headers",
    "access-control-max-age",
)
JSON = {"Content-Type": "application/json"}
ORIGIN = {"Origin": "https://app.example"}

# (method, url, keyword arguments); "{Dune}" is the id of the seeded book titled "Dune".
SCRIPT: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/api", {}),
    ("GET", "/api/", {}),
    ("GET", "/api/openapi.json", {}),
    ("GET", "/api/books", {}),
    ("GET", "/api/books/", {"headers": ORIGIN}),
    ("GET", "/api/books?author=Herbert&year__gte=1960&order_by=-year,title", {}),
    ("GET", "/api/books?author__in=Lem,Borges&fields=title,year", {}),
    ("GET", "/api/books?author=Kafka%20%26%20Brod", {}),
    ("GET", "/api/books?tags__contains=classic&limit=2&offset=1", {}),
    ("GET", "/api/books?q=dune", {}),
    ("GET", "/api/books?limit=3&order_by=year", {}),
    ("GET", "/api/books/{Dune}", {}),
    ("GET", "/api/books/{Dune}/", {"headers": {"If-None-Match": '"v1"'}}),
    ("GET", "/api/books/{Dune}?fields=title", {}),
    ("OPTIONS", "/api/books", {}),
    ("OPTIONS", "/api/books/{Dune}", {}),
    (
        "OPTIONS",
        "/api/books",
        {"headers": {**ORIGIN, "Access-Control-Request-Method": "PATCH"}},
    ),
    ("POST", "/api/books", {"json": {"title": "Kindred", "author": "Butler", "year": 1979}}),
    ("POST", "/api/authors", {"json": {"name": "Čapek / 50% ?&#", "country": "CZ"}}),
    ("GET", "/api/authors/%C4%8Capek%20%2F%2050%25%20%3F%26%23", {}),
    ("PATCH", "/api/books/{Dune}", {"json": {"year": 1966}, "headers": {"If-Match": '"v1"'}}),
    ("PATCH", "/api/books/{Dune}", {"json": {"year": 1967}, "headers": {"If-Match": '"v1"'}}),
    ("PUT", "/api/books/{Emma}", {"json": {"title": "Emma", "author": "Austen"}}),
    ("DELETE", "/api/books/{Solaris}", {}),
    ("DELETE", "/api/books/{Solaris}", {}),
    ("DELETE", "/api/books", {}),
    ("POST", "/api/books/{Dune}", {"json": {}}),
    ("PROPFIND", "/api/books", {}),
    ("GET", "/api/nothing", {}),
    ("GET", "/api/books%2F{Dune}", {}),
    ("GET", "/api/books/%FF%00", {}),
    ("POST", "/api/books", {"content": b'{"title": ', "headers": JSON}),
    ("POST", "/api/books", {"content": b"", "headers": JSON}),
    (
        "POST",
        "/api/books",
        {"content": b'{"title": "x"}', "headers": {"Content-Type": "text/plain"}},
    ),
    ("POST", "/api/books", {"content": b"x" * (3 << 20), "headers": JSON}),
    ("PATCH", "/api/books/{Dune}", {"json": [{"year": 1}]}),
    ("POST", "/api/books", {"json": {"title": "", "year": "abc", "bogus": 1}}),
    ("POST", "/api/books", {"json": [{"title": "A", "author": "B"}, {"title": 1}]}),
    ("POST", "/api/books", {"json": {"$set": {"title": "pwned"}}}),
    ("PATCH", "/api/books/{Dune}", {"json": {"title": {"$ne": None}}}),
    ("GET", "/api/books?title=Dune", {}),
    ("GET", "/api/books?year__regex=1", {}),
    ("GET", "/api/books?author__where=1", {}),
    ("GET", "/api/books?$where=1", {}),
    ("GET", "/api/books?author[$ne]=x", {}),
    ("GET", "/api/books?author=%7B%22%24ne%22%3A%20null%7D", {}),
    ("GET", "/api/books?limit=-1", {}),
    ("GET", "/api/books?limit=99999999999999999999999", {}),
    ("GET", "/api/books?offset=-3", {}),
    ("GET", "/api/books?cursor=garbage", {}),
    ("GET", "/api/books?order_by=cost", {}),
    ("GET", "/api/books?fields=secret", {}),
    ("GET", "/api/books?limit=50&order_by=title", {}),
    ("GET", "/api/authors", {}),
]
# HEAD is compared on its own: see test_head_agrees.
HEADS = ["/api", "/api/books", "/api/books/{Dune}", "/api/books/nope"]


def _stores() -> list[str]:
    names = {info.name for info in plugins.available("backend")}
    return [name for name in ("memory", "sqlite") if name in names]


def _store_url(name: str, tmp_path: Path, transport: str) -> str:
    if name == "sqlite":
        return f"sqlite:///{tmp_path / f'{transport}.db'}"
    return "memory://"


def _normalise(text: str, ids: dict[str, str]) -> str:
    for title, pk in ids.items():
        text = text.replace(pk, f"<{title}>")
    return re.sub(r"\b[0-9a-f]{32}\b", "<new id>", text)


def _cursor(value: str, ids: dict[str, str]) -> str:
    """A cursor decoded, so that runs compare what it points at, not the random ids inside."""
    padded = value + "=" * (-len(value) % 4)
    return _normalise(base64.urlsafe_b64decode(padded).decode(), ids)


def _reduce(response: httpx.Response, ids: dict[str, str]) -> dict[str, Any]:
    headers = {
        name: _normalise(response.headers[name], ids)
        for name in RELEVANT
        if name in response.headers
    }
    if "etag" in headers:  # a hash of the content, generated ids included: compare its form
        headers["etag"] = re.sub(r'"[^"]*"', '"<hash>"', headers["etag"])
    body: Any = response.content.decode("utf-8", "replace")
    if response.headers.get("content-type", "").endswith("json") and response.content:
        body = response.json()
        meta = body.get("meta") if isinstance(body, dict) else None
        if isinstance(meta, dict) and meta.get("cursor"):
            meta["cursor"] = _cursor(meta["cursor"], ids)
        body = json.loads(_normalise(json.dumps(body, ensure_ascii=False), ids))
    return {"status": response.status_code, "headers": headers, "body": body}


async def _play(server: LiveServer, requests: list[tuple[str, str, dict[str, Any]]]) -> list[Any]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        seeded = await client.post("/api/books", json=SEED_BOOKS)
        assert seeded.status_code == 201, seeded.text
        ids = {book["title"]: book["id"] for book in seeded.json()["objects"]}
        answers = []
        for method, url, kwargs in requests:
            response = await client.request(method, url.format(**ids), **kwargs)
            answers.append({"request": f"{method} {url}", **_reduce(response, ids)})
        return answers


def _run_everywhere(tmp_path: Path, requests: list[tuple[str, str, dict[str, Any]]]) -> None:
    runs: dict[str, list[Any]] = {}
    for store in _stores():
        for transport in TRANSPORTS:
            api = build_api(_store_url(store, tmp_path, transport))
            with LiveServer(_transport(transport), api) as server:
                runs[f"{transport} on {store}"] = asyncio.run(_play(server, requests))
    (reference_name, reference), *others = runs.items()
    for name, answers in others:
        for expected, got in zip(reference, answers, strict=True):
            assert got == expected, f"{name} differs from {reference_name}"


def test_adapters_and_stores_agree(tmp_path: Path) -> None:
    _run_everywhere(tmp_path, SCRIPT)


def test_head_agrees(tmp_path: Path) -> None:
    _run_everywhere(tmp_path, [("HEAD", url, {}) for url in HEADS])
