"""Change streams: every committed change, by any program, resumable across restarts."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from tbone import Model
from tbone.errors import StoreError
from tbone_mongo import Change, MongoStore
from tbone_mongo.testing import MongoServer, start_mongo_server


class Note(Model):
    text: str
    n: int = 0


async def _take(stream: AsyncIterator[Change], count: int) -> list[Change]:
    got: list[Change] = []
    async with asyncio.timeout(20):
        async for change in stream:
            got.append(change)
            if len(got) == count:
                break
    return got


async def test_changes_by_tbone_and_by_other_programs(mongo_url: str) -> None:
    async with MongoStore(mongo_url) as store:
        notes = store.collection(Note, "notes")
        other = store.collection(Note, "unwatched")
        stream = store.watch([notes.spec])
        async with contextlib.aclosing(stream):
            reader = asyncio.create_task(_take(stream, 4))
            await asyncio.sleep(0.5)  # the change stream is open
            note = await notes.insert(Note(text="a"))
            await other.insert(Note(text="not watched"))
            await notes.update(note.id, {"n": 1})
            await store.database["notes"].insert_one({"_id": "raw", "text": "outside"})
            await notes.delete(note.id)
            changes = await reader
    assert [(c.op, c.pk) for c in changes] == [
        ("created", note.id),
        ("updated", note.id),
        ("created", "raw"),
        ("deleted", note.id),
    ]
    assert changes[0].doc == {**note.to_data(full=True), "n": 0}
    assert [c.version for c in changes] == [1, 2, 1, None]  # the outside document: version 1
    assert changes[1].doc is not None
    assert changes[1].doc["n"] == 1
    assert all(c.collection == "notes" for c in changes)


async def test_resume_after_a_token_loses_and_repeats_nothing(mongo_url: str) -> None:
    async with MongoStore(mongo_url) as store:
        notes = store.collection(Note, "notes")
        stream = store.watch([notes.spec])
        async with contextlib.aclosing(stream):
            reader = asyncio.create_task(_take(stream, 2))
            await asyncio.sleep(0.5)
            await notes.insert_many([Note(text=str(i)) for i in range(5)])
            first = await reader
        token = first[-1].token
        resumed = store.watch([notes.spec], resume_after=token)
        async with contextlib.aclosing(resumed):
            rest = await _take(resumed, 3)
    seen = [c.doc["text"] for c in [*first, *rest] if c.doc is not None]
    assert seen == ["0", "1", "2", "3", "4"]


@pytest.mark.timeout(120)
async def test_server_restart_while_watching() -> None:
    server = start_mongo_server(own=True)
    try:
        url = server.database_url(serverSelectionTimeoutMS="500")
        async with MongoStore(url) as store:
            notes = store.collection(Note, "notes")
            stream = store.watch([notes.spec])
            async with contextlib.aclosing(stream):
                reader = asyncio.create_task(_take(stream, 4))
                await asyncio.sleep(0.5)
                await notes.insert_many([Note(text="before 1"), Note(text="before 2")])
                await asyncio.sleep(0.5)
                await asyncio.to_thread(server.restart)
                await _write_when_back(server, ["after 1", "after 2"], store.database.name)
                changes = await reader
        assert [c.doc["text"] for c in changes if c.doc] == [
            "before 1", "before 2", "after 1", "after 2",
        ]  # fmt: skip
    finally:
        server.close()


async def _write_when_back(server: MongoServer, texts: list[str], db: str) -> None:
    client: Any = AsyncMongoClient(server.url, serverSelectionTimeoutMS=10_000)
    try:
        for i, text in enumerate(texts):
            await client[db]["notes"].insert_one({"_id": f"after{i}", "text": text})
    finally:
        await client.close()


async def test_watch_needs_the_capability(mongo_url: str) -> None:
    store = MongoStore(mongo_url)  # not opened: capabilities are not known yet
    with pytest.raises(StoreError, match="cannot watch"):
        store.watch([store.collection(Note, "notes").spec])
    await store.aclose()
