"""Update operators in MongoDB: one find_one_and_update, BSON types kept, 64-bit integers,
converted pushed items, documents without a version, and two clients racing."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from tbone.data import Model, field, new_id, version_of
from tbone.errors import ValidationError
from tbone.storage import CollectionSpec, Document
from tbone.storage.ops import each
from tbone.testing.storeops import KitStock
from tbone_mongo import MongoStore
from tbone_mongo.testing import MongoServer


class NoSwapStore(MongoStore):
    """Fails if the operators are applied by read + compare-and-swap instead of natively."""

    async def replace_doc(
        self, spec: CollectionSpec, pk: Any, doc: Document, expect_version: int | None
    ) -> int:
        raise AssertionError("these operators must not fall back to replace_doc")


class Visit(Model):
    id: str = field(factory=new_id, primary_key=True)
    seen: list[dt.datetime] = field(factory=list)


@pytest.fixture
async def raw(mongo_server: MongoServer) -> AsyncIterator[Any]:
    client: Any = AsyncMongoClient(mongo_server.url, tz_aware=True)
    yield client
    await client.close()


async def test_operators_are_one_native_call(mongo_server: MongoServer, raw: Any) -> None:
    async with NoSwapStore(mongo_server.database_url()) as store:
        coll = store.collection(KitStock)
        obj = await coll.insert(KitStock(stock=2, price=1.5, tags=["a"]))
        got = await coll.update(
            obj.id,
            {"note": "n"},
            inc={"stock": -1, "price": 1, "supplier.rating": 2},
            push={"tags": "b"},
            add_to_set={"codes": each(7, 8, 7)},
        )
        assert (got.stock, got.price, got.supplier.rating, got.codes, got.tags) == (
            1,
            2.5,
            2,
            [7, 8],
            ["a", "b"],
        )
        got = await coll.update(obj.id, pull={"codes": 7})
        assert got.codes == [8]
        stored = await raw[store.database.name]["kitstock"].find_one({"_id": obj.id})
        assert (type(stored["stock"]), type(stored["price"]), stored["_v"]) == (int, float, 3)
        assert await coll.get(obj.id) == got


async def test_pushed_items_are_stored_natively(mongo_server: MongoServer, raw: Any) -> None:
    async with MongoStore(mongo_server.database_url()) as store:
        coll = store.collection(Visit)
        obj = await coll.insert(Visit())
        when = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
        got = await coll.update(obj.id, push={"seen": when.isoformat()})
        assert got.seen == [when]
        stored = await raw[store.database.name]["visit"].find_one({"_id": obj.id})
        assert isinstance(stored["seen"][0], dt.datetime)
        assert await coll.get(obj.id) == got


async def test_int64_overflow_is_refused(mongo_server: MongoServer) -> None:
    async with MongoStore(mongo_server.database_url()) as store:
        coll = store.collection(KitStock)
        obj = await coll.insert(KitStock(stock=2**63 - 1))
        with pytest.raises(ValidationError) as err:
            await coll.update(obj.id, inc={"stock": 1})
        assert err.value.errors[0]["type"] == "int64"
        assert await coll.get(obj.id) == obj


async def test_a_document_without_a_version(mongo_server: MongoServer, raw: Any) -> None:
    async with MongoStore(mongo_server.database_url()) as store:
        coll = store.collection(KitStock)
        doc = KitStock(id="x", stock=3).to_data(full=True)
        doc["_id"] = doc.pop("id")
        await raw[store.database.name]["kitstock"].insert_one(doc)
        got = await coll.update("x", inc={"stock": -1})
        assert (got.stock, version_of(got)) == (2, 2)
        got = await coll.update("x", inc={"stock": -1}, expect_version=2)
        assert (got.stock, version_of(got)) == (1, 3)


async def test_two_clients_race_and_lose_nothing(mongo_server: MongoServer) -> None:
    url = mongo_server.database_url()
    async with MongoStore(url) as one, MongoStore(url) as two:
        a, b = one.collection(KitStock), two.collection(KitStock)
        obj = await a.insert(KitStock(stock=45))
        results = await asyncio.gather(
            *(c.update(obj.id, inc={"stock": -1}) for c in [a, b] * 25), return_exceptions=True
        )
        refused = [r for r in results if isinstance(r, BaseException)]
        assert len(refused) == 5
        assert all(isinstance(r, ValidationError) for r in refused)
        got = await b.get(obj.id)
        assert got is not None
        assert (got.stock, version_of(got)) == (0, 46)
