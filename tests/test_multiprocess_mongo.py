"""Two server processes on one MongoDB database and a Redis channel, plus a third program that
writes straight into MongoDB: every client of both processes sees every change exactly once.

Process A serves on aiohttp and process B on Sanic (``tbone serve``). The books live in MongoDB,
whose change stream (the store's ``watch`` capability) is the one source of their events in each
process: TBone's own writes and the outside program's alike, so none is heard twice and none
needs the channel. The ``mongo_server`` fixture (tbone-mongo) starts a real server; so does
``redis_server`` (tbone-redis).
"""

from __future__ import annotations

import asyncio
import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from tbone import plugins
from tbone.testing.transport.process import ServeProcess as Worker

pytestmark = [
    pytest.mark.skipif(
        "mongodb" not in {info.name for info in plugins.available("backend")},
        reason="tbone-mongo is not installed",
    ),
    pytest.mark.timeout(120),
]

API_MODULE = """
import os

from tbone import API
from tbone.testing.transport.app import AuthorResource, BookResource


def make_api() -> API:
    api = API(prefix="/api", stores=os.environ["TBONE_DB"], channel=os.environ["TBONE_CHANNEL"])
    api.register(BookResource)
    api.register(AuthorResource)
    return api
"""


@pytest.fixture
def mongo_db(mongo_server: Any) -> str:
    return f"{mongo_server.url.rstrip('/')}/multiprocess"


@pytest.fixture
def workers(tmp_path: Path, mongo_db: str, redis_server: Any) -> Iterator[tuple[Worker, Worker]]:
    module = tmp_path / "mongo_api.py"
    module.write_text(textwrap.dedent(API_MODULE))
    env = {"TBONE_DB": mongo_db, "TBONE_CHANNEL": redis_server.url}
    a = Worker(module, "aiohttp", env)
    b = Worker(module, "sanic", env)
    try:
        a.wait_ready()
        b.wait_ready()
        yield a, b
    finally:
        for worker in (a, b):
            worker.stop()


async def _subscribed(url: str) -> ClientConnection:
    ws = await connect(url, subprotocols=["tbone.v1"])
    await ws.send(json.dumps({"type": "subscribe", "id": 1, "resource": "books"}))
    answer = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert answer["type"] == "subscribed", answer
    return ws


async def _events(ws: ClientConnection, count: int) -> list[dict[str, Any]]:
    """``count`` events, then proof that no further one (a duplicate) arrives."""
    events = []
    for _ in range(count):
        frame = json.loads(await asyncio.wait_for(ws.recv(), 15))
        assert frame["type"] == "event", frame
        events.append(frame)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(ws.recv(), 1.0)
    return events


def _summary(events: list[dict[str, Any]]) -> list[tuple[str, str, Any]]:
    return [(e["event"], e["pk"], (e.get("data") or {}).get("title")) for e in events]


def test_every_change_reaches_every_process_once(
    workers: tuple[Worker, Worker], mongo_db: str
) -> None:
    from pymongo import AsyncMongoClient

    a, b = workers

    async def scenario() -> None:
        on_a, on_b = await _subscribed(a.ws_url), await _subscribed(b.ws_url)
        client: Any = AsyncMongoClient(mongo_db)
        try:
            books = client.get_default_database()["books"]
            async with httpx.AsyncClient(base_url=a.url) as http:
                made = await http.post("/api/books", json={"title": "Dune", "author": "Herbert"})
                assert made.status_code == 201, made.text
                pk = made.json()["id"]
                # an outside program: its own insert, an update of TBone's document, a delete
                await books.insert_one({"_id": "ext-1", "title": "Solaris", "author": "Lem"})
                await books.update_one({"_id": pk}, {"$set": {"title": "Dune Messiah"}})
                await books.delete_one({"_id": "ext-1"})
            expected = [
                ("created", pk, "Dune"),
                ("created", "ext-1", "Solaris"),
                ("updated", pk, "Dune Messiah"),
                ("deleted", "ext-1", "Solaris"),
            ]
            for ws in (on_a, on_b):
                assert _summary(await _events(ws, 4)) == expected
            async with httpx.AsyncClient(base_url=b.url) as http:
                seen = await http.get(f"/api/books/{pk}")
                assert seen.json()["title"] == "Dune Messiah"  # the outside write, read back
                assert (await http.delete(f"/api/books/{pk}")).status_code == 204
            for ws in (on_a, on_b):
                assert _summary(await _events(ws, 1)) == [("deleted", pk, "Dune Messiah")]
        finally:
            await on_a.close()
            await on_b.close()
            await client.close()

    asyncio.run(scenario())
