"""MongoDB store operations through tbone vs raw PyMongo (async) doing the same work.

Three ways, side by side in one event loop, on one server (``TBONE_TEST_MONGO_URL``, else a
``mongod`` on PATH, else SecantusDB, as the tests find it), each in its own database:

- ``raw``: hand-written ``AsyncMongoClient`` calls on the same documents (dicts in, dicts out,
  ``_id`` as the key, a version field): the baseline.
- ``store``: ``MongoStore`` methods on the same dicts (what the resource layer calls).
- ``collection``: ``store.collection(Book)`` with models, so ODM validation and conversion are in.

Operations: insert one document; get one by primary key; find the ~10 documents with a given
value of an indexed field, ordered by primary key; update one field (read, then a replace whose
filter holds the version read: the optimistic write every TBone update is).
"""

from __future__ import annotations

import asyncio
from typing import Any

from pymongo import ASCENDING, AsyncMongoClient

from bench.results import Section
from bench.store_cases import ROWS, YEARS, Book, Cases, crud_cases
from bench.store_cases import doc as _doc
from bench.timing import three_way
from tbone_mongo import MongoStore
from tbone_mongo.testing import MongoServer


def _stored(doc: dict[str, Any], version: int) -> dict[str, Any]:
    out = {"_id": doc["id"], **{k: v for k, v in doc.items() if k != "id"}}
    out["_v"] = version
    return out


def _wire(stored: dict[str, Any]) -> tuple[dict[str, Any], int]:
    doc = {("id" if k == "_id" else k): v for k, v in stored.items() if k != "_v"}
    return doc, stored.get("_v", 1)


class Raw:
    """The baseline: what a careful hand-written PyMongo data layer does."""

    def __init__(self, coll: Any) -> None:
        self.coll = coll

    async def insert(self, doc: dict[str, Any]) -> None:
        await self.coll.insert_one(_stored(doc, 1))

    async def get(self, pk: str) -> tuple[dict[str, Any], int] | None:
        found = await self.coll.find_one({"_id": pk})
        return None if found is None else _wire(found)

    async def find(self, year: int) -> list[tuple[dict[str, Any], int]]:
        cursor = self.coll.find({"year": {"$eq": year}}).sort([("_id", ASCENDING)])
        return [_wire(d) for d in await cursor.to_list(None)]

    async def update(self, pk: str, changes: dict[str, Any]) -> int:
        found = await self.get(pk)
        assert found is not None
        doc, version = found
        new = _stored({**doc, **changes}, version + 1)
        result = await self.coll.replace_one({"_id": pk, "_v": version}, new)
        assert result.matched_count == 1
        return version + 1


async def _setup(server: MongoServer) -> tuple[Any, Raw, MongoStore]:
    client: Any = AsyncMongoClient(server.url, tz_aware=True, uuidRepresentation="standard")
    raw_coll = client["bench_raw"]["book"]
    await client.drop_database("bench_raw")
    await raw_coll.create_index([("year", ASCENDING)])
    store = MongoStore(server.database_url("bench_tbone"))
    await store.open()
    await store.database.client.drop_database("bench_tbone")
    docs = [_doc(i) for i in range(ROWS)]
    await raw_coll.insert_many([_stored(d, 1) for d in docs])
    await store.collection(Book).insert_many([Book.from_data(d) for d in docs])
    return client, Raw(raw_coll), store


def _cases(raw: Raw, store: MongoStore) -> Cases:
    return crud_cases(raw, store, Book, _doc, rows=ROWS, years=YEARS)


def run() -> Section:
    """Measure every operation three ways; return the table of throughputs and ratios."""
    loop = asyncio.new_event_loop()
    server = MongoServer.from_environment().start()
    try:
        client, raw, store = loop.run_until_complete(_setup(server))
        try:
            section = three_way(
                loop,
                f"MongoDB store vs raw PyMongo async (same documents), ops/s, on {server.kind}",
                _cases(raw, store),
                ROWS,
                rounds=3,
                key="mongo/mongodb",
            )
        finally:
            loop.run_until_complete(store.aclose())
            loop.run_until_complete(client.close())
            loop.close()
    finally:
        server.close()
    section.text += "\n  store: MongoStore methods on dicts; collection: models (ODM included)"
    return section


if __name__ == "__main__":
    print(run().text)
