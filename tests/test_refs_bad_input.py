"""Hostile input to references, ``expand`` and custom actions, on every adapter and every store.

Each case names the status it must get (a problem document for every 4xx, never a 5xx); after
the whole script the stores hold exactly what was seeded: no refused write left anything.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from tbone import API, Context, Model, Ref, Resource, action, field, plugins
from tbone.testing.transport import LiveServer

TRANSPORTS = ["aiohttp", "sanic", "asgi"]
STORES = ["memory", "sqlite", "mongodb", "redis"]


class Person(Model):
    name: str = field(max_length=100)
    owner: str = ""
    mentor: Ref[Person] | None = None


class Paper(Model):
    title: str = field(max_length=200)
    person: Ref[Person]
    coauthors: list[Ref[Person]] = field(factory=list, max_length=2000)


class Move(Model, embedded=True):
    to: Ref[Person]


class PersonResource(Resource[Person]):
    model = Person
    name = "people"

    def scope(self, ctx: Context) -> Any:
        return {"owner": ""}


class PaperResource(Resource[Paper]):
    model = Paper
    name = "papers"

    @action(detail=True, methods=["POST"], input=Move)
    async def move(self, ctx: Context, obj: Paper, data: Move) -> Paper:
        return await self.change(obj.id, {"person": data.to})


def _url(store: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if store not in {info.name for info in plugins.available("backend")}:
        pytest.skip(f"{store} store not installed")
    if store == "memory":
        return "memory://"
    if store == "sqlite":
        return f"sqlite:///{tmp_path / 'refs.db'}"
    if store == "mongodb":
        server = request.getfixturevalue("mongo_server")
        return f"{server.url.rstrip('/')}/refs_bad_{tmp_path.name[-20:]}"
    server = request.getfixturevalue("redis_server")
    return str(server.url)


def _cases(seen: str, hidden: str, paper: str) -> list[tuple[str, str, dict[str, Any], int]]:
    many = [f"k{i}" for i in range(1001)]
    long_key = "x" * 200_000
    post = "/api/papers"
    item = f"/api/papers/{paper}"
    cases: list[tuple[str, str, dict[str, Any], int]] = [
        ("POST", post, {"json": {"title": "t", "person": "missing"}}, 422),
        ("POST", post, {"json": {"title": "t", "person": hidden}}, 422),
        ("POST", post, {"json": {"title": "t", "person": 7}}, 422),
        ("POST", post, {"json": {"title": "t", "person": None}}, 422),
        ("POST", post, {"json": {"title": "t", "person": {"$ne": None}}}, 422),
        ("POST", post, {"json": {"title": "t", "person": [seen]}}, 422),
        ("POST", post, {"json": {"title": "t", "person": long_key}}, 422),
        ("POST", post, {"json": {"title": "t", "person": seen, "coauthors": many}}, 422),
        ("POST", post, {"json": {"title": "t", "person": seen, "coauthors": [{"$gt": ""}]}}, 422),
        (
            "POST",
            post,
            {"json": [{"title": "a", "person": seen}, {"title": "b", "person": hidden}]},
            422,
        ),
        ("PATCH", item, {"json": {"person": hidden}}, 422),
        ("PATCH", item, {"json": {"coauthors": [seen, "missing"]}}, 422),
        ("PUT", item, {"json": {"title": "t", "person": "missing"}}, 422),
        ("POST", "/api/people", {"json": {"name": "n", "mentor": hidden}}, 422),
        ("POST", f"{item}/move", {"json": {"to": hidden}}, 422),
        ("POST", f"{item}/move", {"json": {"to": "missing"}}, 422),
        ("POST", f"{item}/move", {"json": {}}, 422),
        ("POST", f"{item}/nope", {"json": {}}, 404),
        ("GET", f"{item}/move", {}, 405),
        ("POST", "/api/papers/missing/move", {"json": {"to": seen}}, 404),
        ("POST", "/api/papers/move", {"json": {"to": seen}}, (404, 405)),
        ("GET", post, {"params": {"expand": "title"}}, 400),
        ("GET", post, {"params": {"expand": "person.name"}}, 400),
        ("GET", post, {"params": {"expand": "person.mentor.mentor.mentor"}}, 400),
        ("GET", post, {"params": {"expand": ".".join(["person"] + ["mentor"] * 900)}}, 400),
        ("GET", post, {"params": {"expand": ",".join(["person"] * 50)}}, 400),
        ("GET", post, {"params": {"expand": "x" * 7000}}, 400),
        ("GET", f"{post}?expand=%ED%A0%80", {}, 400),
        ("GET", f"{post}?expand[]=person", {}, 400),
        ("GET", f"{post}?expand=person&expand=nope", {}, 400),
        ("GET", item, {"params": {"expand": "nope"}}, 400),
        ("GET", "/api/papers/missing", {"params": {"expand": "person"}}, 404),
        ("GET", post, {"params": {"expand": "person.mentor,coauthors"}}, 200),
        ("GET", post, {"params": {"expand": ",person,,"}}, 200),
        ("GET", item, {"params": {"expand": "person", "fields": "title"}}, 200),
    ]
    return cases


@pytest.mark.timeout(120)
@pytest.mark.parametrize("store", STORES)
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_hostile_references_and_actions(
    transport: str, store: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    api = API(prefix="/api", stores=_url(store, tmp_path, request))
    api.register(PaperResource)
    api.register(PersonResource)
    with LiveServer(transport, api) as server:
        people, papers = api.resource("people"), api.resource("papers")

        async def seed() -> tuple[str, str, str]:
            await papers.collection.delete_many()
            await people.collection.delete_many()
            seen = await people.insert(Person(name="seen"))
            hidden = await people.insert(Person(name="hidden", owner="x", mentor=seen.id))
            paper = await papers.insert(Paper(title="p", person=seen.id, coauthors=[hidden.id]))
            return seen.id, hidden.id, paper.id

        seen, hidden, paper = _run(server, seed)
        failures = []
        with httpx.Client(base_url=server.url, timeout=30) as http:
            for method, path, kwargs, expected in _cases(seen, hidden, paper):
                got = http.request(method, path, **kwargs)
                allowed = expected if isinstance(expected, tuple) else (expected,)
                problem = got.headers.get("content-type") == "application/problem+json"
                if got.status_code not in allowed or (got.status_code >= 400 and not problem):
                    failures.append(
                        f"{method} {path[:80]} {kwargs!s:.80}: {got.status_code} {got.text[:200]}"
                    )
            answer = http.get(f"/api/papers/{paper}", params={"expand": "person,coauthors"}).json()
        failures += _run(server, lambda: _websocket_cases(server.url))
        assert not failures, "\n".join(failures)
        assert answer["person"]["name"] == "seen"
        assert answer["coauthors"] == [None]  # hidden: null, never its fields

        async def stored() -> list[Any]:
            return [
                sorted(p.title for p in (await papers.collection.find()).items),
                sorted(p.name for p in (await people.collection.find()).items),
            ]

        assert _run(server, stored) == [["p"], ["hidden", "seen"]]  # nothing refused was stored


BAD_EXPANDS: list[Any] = [
    5,
    [1],
    {"person": True},
    ["person"] * 11,
    "x" * 7000,
    "person.mentor.mentor.mentor",
    ["title"],
    [None],
]


async def _websocket_cases(url: str) -> list[str]:
    """Bad ``expand`` in subscribe frames: an error frame answering each, the socket kept."""
    failures = []
    ws_url = url.replace("http", "ws", 1) + "/api/ws"
    async with connect(ws_url, subprotocols=["tbone.v1"]) as ws:  # type: ignore[list-item]
        frames = [
            {"type": "subscribe", "id": i, "resource": "papers", "snapshot": True, "expand": bad}
            for i, bad in enumerate(BAD_EXPANDS)
        ]
        frames.append({"type": "subscribe", "id": 99, "resource": "papers", "expand": "person"})
        for frame in frames:
            await ws.send(json.dumps(frame))
            answer = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if (answer.get("type"), answer.get("id"), answer.get("status")) != (
                "error",
                frame["id"],
                400,
            ):
                failures.append(f"subscribe expand={frame['expand']!s:.60}: {answer}")
        good = {"type": "subscribe", "id": 100, "resource": "papers", "snapshot": True}
        await ws.send(json.dumps({**good, "expand": "person,coauthors"}))
        answer = json.loads(await asyncio.wait_for(ws.recv(), 10))
        objects = answer.get("objects") or [{}]
        if objects[0].get("coauthors") != [None] or objects[0]["person"]["name"] != "seen":
            failures.append(f"a good expanded snapshot: {answer}")
    return failures


def _run(server: LiveServer, fn: Any) -> Any:
    """Run ``fn`` on the server's loop, where its stores live."""
    return asyncio.run(server.call(fn))


def test_every_case_is_unique() -> None:
    cases = _cases("a", "b", "c")
    assert len({json.dumps([m, p, k], sort_keys=True, default=str) for m, p, k, _ in cases}) == len(
        cases
    )
