"""Resume through an API whose channel is ``sqlite://``: two APIs on one file (as the demo and
``tbone serve`` would be), events heard across them, and missed ones replayed after a seq."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tbone import API, Model, Resource
from tbone.http import Request
from tbone.realtime import Session


class Book(Model):
    title: str
    author: str
    year: int | None = None


class BookResource(Resource[Book]):
    model = Book
    name = "books"
    filter_fields = {"author": ["exact"]}


HERBERT = {"type": "subscribe", "id": 1, "resource": "books", "filter": {"author": "Herbert"}}


class Peer:
    """The client end of a sans-io session: the frames it was sent."""

    def __init__(self, api: API) -> None:
        self.frames: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        request = Request("GET", "/api/ws", "", {})
        self.session: Session = api.open_session(request, send=self._send, close=self._close)

    async def _send(self, text: str) -> None:
        await self.frames.put(json.loads(text))

    async def _close(self, code: int, reason: str) -> None:
        pass

    async def next(self, wait: float = 5.0) -> dict[str, Any]:
        return await asyncio.wait_for(self.frames.get(), wait)

    async def call(self, frame: dict[str, Any]) -> dict[str, Any]:
        await self.session.receive(json.dumps(frame))
        return await self.next()


async def _connect(api: API) -> Peer:
    peer = Peer(api)
    assert await peer.session.start()
    return peer


def _api(path: Path, history: int = 10_000) -> API:
    api = API(stores=f"sqlite:///{path}", channel=f"sqlite:///{path}?history={history}")
    api.register(BookResource)
    return api


@pytest.fixture
async def apis(tmp_path: Path) -> AsyncIterator[tuple[API, API]]:
    async with _api(tmp_path / "app.db") as a, _api(tmp_path / "app.db") as b:
        yield a, b


async def test_writes_through_one_api_are_heard_on_the_other(apis: tuple[API, API]) -> None:
    a, b = apis
    peer = await _connect(a)
    await peer.call(HERBERT)
    dune = await b.resource("books").create({"title": "Dune", "author": "Herbert"})
    event = await peer.next()
    assert (event["event"], event["pk"], event["data"]["title"]) == ("created", dune.id, "Dune")
    assert isinstance(event["seq"], str)


async def test_resume_replays_what_the_other_api_wrote_meanwhile(apis: tuple[API, API]) -> None:
    a, b = apis
    books = b.resource("books")
    first = await _connect(a)
    await first.call(HERBERT)
    dune = await books.create({"title": "Dune", "author": "Herbert"})
    seq = (await first.next())["seq"]
    await first.session.finish()  # the socket drops
    await books.update(dune.id, {"year": 1965})
    await books.create({"title": "Emma", "author": "Austen"})  # not in the view
    await books.update(dune.id, {"author": "Someone"})
    again = await _connect(a)
    answer = await again.call({**HERBERT, "after": seq})
    assert answer == {"type": "subscribed", "id": 1, "subscription": "s1"}
    missed = [await again.next(), await again.next()]
    assert [(e["event"], e["pk"]) for e in missed] == [("updated", dune.id), ("left", dune.id)]
    await books.update(dune.id, {"author": "Herbert"})
    assert (await again.next())["event"] == "entered"  # and live from there
    with pytest.raises(TimeoutError):
        await again.next(wait=0.3)


async def test_a_snapshot_position_resumes_on_the_other_api(apis: tuple[API, API]) -> None:
    a, b = apis
    await a.resource("books").create({"title": "Dune", "author": "Herbert"})
    peer = await _connect(a)
    answer = await peer.call({**HERBERT, "snapshot": True})
    assert [o["title"] for o in answer["objects"]] == ["Dune"]
    await a.resource("books").create({"title": "Children of Dune", "author": "Herbert"})
    elsewhere = await _connect(b)  # the client reconnects to the other process
    resumed = await elsewhere.call({**HERBERT, "after": answer["seq"]})
    assert "resync" not in resumed
    assert (await elsewhere.next())["data"]["title"] == "Children of Dune"


async def test_a_gap_beyond_the_history_answers_resync(tmp_path: Path) -> None:
    async with _api(tmp_path / "app.db", history=3) as api:
        books = api.resource("books")
        peer = await _connect(api)
        await peer.call(HERBERT)
        await books.create({"title": "Dune", "author": "Herbert"})
        seq = (await peer.next())["seq"]
        for i in range(5):
            await books.create({"title": f"b{i}", "author": "Herbert"})
        again = await _connect(api)
        assert (await again.call({**HERBERT, "after": seq}))["resync"] is True
