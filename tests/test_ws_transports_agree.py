"""Every adapter (aiohttp, Sanic, ASGI under uvicorn and hypercorn), on every store in this
repo, answers one WebSocket script identically.

Several sockets (anonymous and signed in) send good and bad frames while HTTP writes happen;
every frame each socket receives, and the code each socket is closed with, is recorded with
generated ids replaced by stable names, and all runs must agree with the first.
"""

from __future__ import annotations

import asyncio
import json
import re
from contextlib import nullcontext, suppress
from pathlib import Path
from typing import Any

import httpx
from websockets.exceptions import ConnectionClosed

from tbone import plugins
from tbone.testing.transport import LiveServer, build_realtime_api
from tbone.testing.transport.app import SEED_BOOKS
from tbone.testing.transport.wsbad import BAD_FRAMES
from tbone.testing.transport.wsharness import Peer, WsHarness

TRANSPORTS = ["aiohttp", "sanic", "asgi", "hypercorn"]


def _transport(name: str) -> Any:
    """A transport name, or a server another transport runs (hypercorn: the asgi transport's)."""
    if name == "hypercorn":
        return plugins.load("transport", "asgi")(server="hypercorn")
    return name


HERBERT = {"title": "Children of Dune", "author": "Herbert", "year": 1976}

# Steps: ("send", socket, frame, frames it brings), ("http", method, url, json, {socket: frames}),
# ("closed", socket): read until the server closes. "{Dune}" is the seeded book's id.
SCRIPT: list[tuple[Any, ...]] = [
    ("send", "anon", {"type": "ping"}, 1),
    (
        "send",
        "anon",
        {"type": "subscribe", "id": 1, "resource": "books", "filter": {"author": "Herbert"}},
        1,
    ),
    ("send", "anon", {"type": "subscribe", "id": 2, "resource": "books", "events": ["deleted"]}, 1),
    ("send", "anon", {"type": "subscribe", "id": 3, "resource": "books", "pk": "{Dune}"}, 1),
    ("send", "alice", {"type": "subscribe", "id": "n", "resource": "notes"}, 1),
    ("send", "bob", {"type": "subscribe", "id": "n", "resource": "notes"}, 1),
    ("send", "anon", {"type": "subscribe", "id": 4, "resource": "notes"}, 1),
    ("http", "POST", "/api/books", HERBERT, {"anon": 1}),
    ("http", "PATCH", "/api/books/{Dune}", {"year": 1966}, {"anon": 2}),
    (
        "send",
        "anon",
        {"type": "request", "id": 5, "method": "GET", "path": "/api/books?author=Herbert"},
        1,
    ),
    ("send", "anon", {"type": "request", "id": 6, "method": "GET", "path": "/api/books/{Dune}"}, 1),
    (
        "send",
        "anon",
        {"type": "request", "id": 7, "method": "POST", "path": "/api/books", "body": {"title": ""}},
        1,
    ),
    ("send", "anon", {"type": "request", "id": 8, "method": "DELETE", "path": "/api/books"}, 1),
    ("send", "anon", {"type": "request", "id": 9, "method": "GET", "path": "/api/notes"}, 1),
    (
        "send",
        "alice",
        {"type": "request", "id": 1, "method": "POST", "path": "/api/notes", "body": {"text": "a"}},
        2,
    ),
    ("send", "bob", {"type": "request", "id": 1, "method": "GET", "path": "/api/notes"}, 1),
    ("send", "bob", {"type": "auth", "id": 2, "token": "alice-token"}, 1),
    ("send", "bob", {"type": "request", "id": 3, "method": "GET", "path": "/api/notes"}, 1),
    *[("send", "anon", raw, 1) for raw, _, _ in BAD_FRAMES],
    ("http", "DELETE", "/api/books/{Dune}", None, {"anon": 3}),
    ("send", "anon", {"type": "unsubscribe", "id": 10, "subscription": "s1"}, 1),
    ("send", "anon", {"type": "unsubscribe", "id": 11, "subscription": "s1"}, 1),
    ("send", "anon", "x" * (1 << 20 | 1), 0),
    ("closed", "anon"),
    ("closed", "refused"),
]
SOCKETS = {"anon": "", "alice": "token=alice-token", "bob": "token=bob-token", "refused": "token=x"}


def _stores() -> list[str]:
    names = {info.name for info in plugins.available("backend")}
    return [name for name in ("memory", "sqlite") if name in names]


def _normalise(value: Any, ids: dict[str, str]) -> Any:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    for title, pk in ids.items():
        text = text.replace(pk, f"<{title}>")
    # ETags hash the body, generated ids included: equal bodies are checked, tags only present
    text = re.sub(r'"ETag": "\\"[A-Za-z0-9_-]+\\""', '"ETag": "<etag>"', text)
    # positions are opaque and made per server run: checked present, not equal
    text = re.sub(r'"seq": "[^"]+"', '"seq": "<seq>"', text)
    return json.loads(re.sub(r"\b[0-9a-f]{32}\b", "<new id>", text))


def _fill(value: Any, ids: dict[str, str]) -> Any:
    return json.loads(json.dumps(value).replace("{Dune}", ids["Dune"])) if value else value


async def _step(
    step: tuple[Any, ...], peers: dict[str, Peer], http: httpx.AsyncClient, ids: dict[str, str]
) -> Any:
    kind = step[0]
    if kind == "closed":
        return await peers[step[1]].closed()
    if kind == "send":
        _, name, frame, count = step
        # A frame over the limit: the server may close (1009) while the client still sends
        # it; the "closed" step that follows reads the code, which every run must agree on.
        with suppress(ConnectionClosed, ConnectionResetError) if count == 0 else nullcontext():
            await peers[name].send(_fill(frame, ids) if isinstance(frame, dict) else frame)
        expected = {name: count}
    else:
        _, method, url, body, expected = step
        response = await http.request(method, _fill(url, ids), json=body)
        expected = {**expected, "http": response.status_code}
    got: dict[str, Any] = {"http": expected.pop("http", None)}
    for name, count in expected.items():
        frames = [await peers[name].next() for _ in range(count)]
        got[name] = sorted(frames, key=lambda f: json.dumps(f, sort_keys=True))  # arrival order
    return got


async def _play(server: LiveServer) -> list[Any]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        seeded = await http.post("/api/books", json=SEED_BOOKS)
        ids = {book["title"]: book["id"] for book in seeded.json()["objects"]}
        harness = WsHarness(server, http)
        contexts = {name: harness.connect(query) for name, query in SOCKETS.items()}
        peers = {name: await context.__aenter__() for name, context in contexts.items()}
        try:
            answers = []
            for step in SCRIPT:
                got = await _step(step, peers, http, ids)
                answers.append({"step": repr(step)[:120], "got": _normalise(got, ids)})
            for name, peer in peers.items():
                if name not in ("anon", "refused"):
                    await peer.nothing()
            return answers
        finally:
            for context in contexts.values():
                await context.__aexit__(None, None, None)


def test_adapters_and_stores_agree_over_websockets(tmp_path: Path) -> None:
    runs: dict[str, list[Any]] = {}
    for store in _stores():
        for transport in TRANSPORTS:
            url = f"sqlite:///{tmp_path / f'{transport}.db'}" if store == "sqlite" else "memory://"
            with LiveServer(_transport(transport), build_realtime_api(url)) as server:
                runs[f"{transport} on {store}"] = asyncio.run(_play(server))
    (reference_name, reference), *others = runs.items()
    for name, answers in others:
        for expected, got in zip(reference, answers, strict=True):
            assert got == expected, f"{name} differs from {reference_name}"
