"""References across stores, on real servers: authors in SQLite, books in MongoDB, one API.

Every adapter serves the same checks: a reference to a missing author and one to an author the
caller may not see get the same 422, ``?expand=author`` embeds authors with one SQLite query per
page (its store's reads are counted, the store itself runs), a WebSocket snapshot embeds them
too, and a custom action's writes reach subscribers.
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


class Writer(Model):
    name: str
    owner: str = ""
    royalties: float = field(default=0.0, private=True)


class Novel(Model):
    title: str
    writer: Ref[Writer]
    reviews: int = field(default=0, read_only=True)


class Stars(Model, embedded=True):
    stars: int = field(ge=1, le=5)


class WriterResource(Resource[Writer]):
    model = Writer
    name = "writers"

    def scope(self, ctx: Context) -> Any:
        return {"owner": ""}  # writers with an owner are private to everyone over the API


class NovelResource(Resource[Novel]):
    model = Novel
    name = "novels"

    @action(detail=True, methods=["POST"], input=Stars)
    async def review(self, ctx: Context, obj: Novel, data: Stars) -> Novel:
        return await self.change(obj.id, inc={"reviews": 1})


class Reads:
    """Counts the reads a real store gets (its own methods still do the work)."""

    def __init__(self, store: Any) -> None:
        self.calls: list[str] = []
        for name in ("find_docs", "get_docs"):
            setattr(store, name, self._counted(name, getattr(store, name)))

    def _counted(self, name: str, method: Any) -> Any:
        async def counted(spec: Any, *args: Any) -> Any:
            self.calls.append(f"{name}:{spec.name}")
            return await method(spec, *args)

        return counted


def _api(sqlite_path: Path, mongo_url: str) -> API:
    api = API(prefix="/api", stores={"default": mongo_url, "sql": f"sqlite:///{sqlite_path}"})
    api.register(NovelResource)
    api.register(WriterResource, store="sql")
    return api


@pytest.fixture
def mongo_db(request: pytest.FixtureRequest) -> str:
    if "mongodb" not in {info.name for info in plugins.available("backend")}:
        pytest.skip("tbone-mongo is not installed")
    server = request.getfixturevalue("mongo_server")
    return str(server.url.rstrip("/"))


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_references_across_sqlite_and_mongodb(
    transport: str, tmp_path: Path, mongo_db: str
) -> None:
    api = _api(tmp_path / "writers.db", f"{mongo_db}/refs_{transport}")
    with LiveServer(transport, api) as server:
        writers = api.resource("writers")
        le_guin = await server.call(lambda: writers.insert(Writer(name="Le Guin", royalties=3)))
        hidden = await server.call(lambda: writers.insert(Writer(name="H", owner="x")))
        reads = Reads(api.stores["sql"])
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            refused = []
            for key in ("no-such-writer", hidden.id):
                got = await http.post("/api/novels", json={"title": "T", "writer": key})
                assert got.status_code == 422
                refused.append(got.json())
            assert refused[0] == refused[1]  # no existence oracle
            assert refused[0]["errors"][0]["loc"] == ["writer"]
            for i in range(12):
                got = await http.post("/api/novels", json={"title": f"N{i}", "writer": le_guin.id})
                assert got.status_code == 201, got.text
            reads.calls.clear()
            page = (await http.get("/api/novels?expand=writer&limit=12")).json()
            assert reads.calls == ["find_docs:writers"]  # one query for twelve novels
            assert {n["writer"]["name"] for n in page["objects"]} == {"Le Guin"}
            assert "royalties" not in json.dumps(page)
            first = page["objects"][0]
            got = await http.get(f"/api/novels/{first['id']}?expand=writer")
            assert got.json()["writer"] == first["writer"]
            bad = await http.get("/api/novels?expand=writer.name")
            assert bad.status_code == 400
            assert bad.headers["content-type"] == "application/problem+json"
        ws_url = server.url.replace("http", "ws", 1) + "/api/ws"
        async with connect(ws_url, subprotocols=["tbone.v1"]) as ws:  # type: ignore[list-item]
            subscribe = {
                "type": "subscribe",
                "id": 1,
                "resource": "novels",
                "snapshot": True,
                "limit": 3,
                "expand": ["writer"],
            }
            await ws.send(json.dumps(subscribe))
            answer = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert answer["type"] == "subscribed", answer
            assert [o["writer"]["name"] for o in answer["objects"]] == ["Le Guin"] * 3
            await ws.send(json.dumps({**subscribe, "id": 2, "expand": "writer.owner"}))
            error = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert (error["type"], error["id"], error["status"]) == ("error", 2, 400)
            await ws.send(json.dumps({**subscribe, "id": 3, "snapshot": False}))
            error = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert (error["type"], error["id"], error["status"]) == ("error", 3, 400)
            review = {
                "type": "request",
                "id": 4,
                "method": "POST",
                "path": f"/api/novels/{first['id']}/review",
                "body": {"stars": 5},
            }
            await ws.send(json.dumps(review))
            frames = [json.loads(await asyncio.wait_for(ws.recv(), 10)) for _ in range(2)]
            by_type = {f["type"]: f for f in frames}
            assert by_type["response"]["status"] == 200
            assert by_type["response"]["body"]["reviews"] == 1
            assert by_type["event"]["event"] == "updated"
            assert by_type["event"]["data"]["reviews"] == 1
