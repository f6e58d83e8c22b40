"""Outside writes become live events: the API follows the store's change stream.

Sessions are driven sans-io (frames in through ``receive``, out through a queue) on an API
whose store is a real MongoDB; a second client writes into the collections directly, as
mongosh or another service would.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from tbone import API, BearerToken
from tbone.http import Request
from tbone.testing.transport.app import TOKENS, BookResource, NoteResource


class Peer:
    def __init__(self, api: API, token: str | None = None) -> None:
        self.frames: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        query = f"token={token}" if token else ""
        request = Request("GET", "/api/ws", query, {})
        self.session = api.open_session(request, send=self._send, close=self._close)

    async def _send(self, text: str) -> None:
        await self.frames.put(json.loads(text))

    async def _close(self, code: int, reason: str) -> None:
        pass

    async def call(self, frame: dict[str, Any]) -> dict[str, Any]:
        await self.session.receive(json.dumps(frame))
        return await self.next()

    async def next(self, wait: float = 10.0) -> dict[str, Any]:
        return await asyncio.wait_for(self.frames.get(), wait)

    async def nothing(self, within: float = 0.5) -> None:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(self.frames.get(), within)


@pytest.fixture
async def api(mongo_url: str) -> AsyncIterator[API]:
    api = API(stores=mongo_url, authenticator=BearerToken(TOKENS))
    api.register(BookResource)
    api.register(NoteResource)
    async with api:
        yield api


@pytest.fixture
async def raw(mongo_url: str) -> AsyncIterator[Any]:
    client: Any = AsyncMongoClient(mongo_url)
    yield client.get_default_database()
    await client.close()


async def peer(api: API, token: str | None = None, resource: str = "books") -> Peer:
    p = Peer(api, token)
    assert await p.session.start()
    assert (await p.call({"type": "subscribe", "id": 1, "resource": resource}))["type"] == (
        "subscribed"
    )
    return p


async def test_outside_writes_are_events_and_tbone_writes_come_once(api: API, raw: Any) -> None:
    listener = await peer(api)
    await raw["books"].insert_one({"_id": "b1", "title": "Solaris", "author": "Lem", "cost": 3.0})
    created = await listener.next()
    assert (created["event"], created["pk"]) == ("created", "b1")
    assert created["data"]["title"] == "Solaris"
    assert "cost" not in created["data"]  # private, whoever wrote it
    await raw["books"].update_one({"_id": "b1"}, {"$set": {"year": 1961}})
    assert (await listener.next())["data"]["year"] == 1961
    book = await api.resource("books").create({"title": "Dune", "author": "Herbert"})
    assert (await listener.next())["pk"] == book.id
    await listener.nothing()  # once: not from the channel and the change stream both
    await raw["books"].delete_one({"_id": "b1"})
    deleted = await listener.next()
    assert (deleted["event"], deleted["pk"], deleted["data"]["title"]) == (
        "deleted",
        "b1",
        "Solaris",
    )


async def test_outside_writes_are_checked_per_subscriber(api: API, raw: Any) -> None:
    alice = await peer(api, "alice-token", "notes")
    bob = await peer(api, "bob-token", "notes")
    await raw["notes"].insert_one({"_id": "n1", "text": "for alice", "owner": "alice"})
    got = await alice.next()
    assert (got["event"], got["data"]["text"]) == ("created", "for alice")
    await bob.nothing()
    await raw["notes"].delete_one({"_id": "n1"})  # the pre-image tells whose it was
    assert (await alice.next())["event"] == "deleted"
    await bob.nothing()


async def test_a_document_that_does_not_fit_the_model_is_not_sent(
    api: API, raw: Any, caplog: pytest.LogCaptureFixture
) -> None:
    listener = await peer(api)
    await raw["books"].insert_one({"_id": "bad", "title": "", "author": 5})
    await raw["books"].insert_one({"_id": "good", "title": "Ubik", "author": "Dick"})
    assert (await listener.next())["pk"] == "good"
    assert "does not fit Book" in caplog.text
